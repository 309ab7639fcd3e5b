import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PartialUploads, type PartialUploadsOptions, type Receiving } from '../../../src/protocol/partial-uploads.js'

async function store (t: any, opts: Partial<PartialUploadsOptions> = {}): Promise<{ uploads: PartialUploads, clock: { now: number }, files: () => Promise<string[]> }> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-partials-'))
  const clock = { now: 1_000_000 }
  const errors: unknown[] = []
  const uploads = new PartialUploads({ dir, maxPeerBytes: 1000, maxTotalBytes: 2500, ttlMs: 60_000, maxPartials: 3, now: () => clock.now, onError: (err) => { errors.push(err) }, ...opts })
  await uploads.start()
  t.after(async () => {
    await uploads.stop()
    await rm(dir, { recursive: true, force: true })
    assert.deepEqual(errors, [])
  })
  return { uploads, clock, files: async () => await readdir(dir) }
}

const sha = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest()

async function receiving (uploads: PartialUploads, peer: string, id: string, size: number): Promise<Receiving> {
  const r = await uploads.begin(peer, id, size)
  if (typeof r === 'string') assert.fail(`begin(${peer}, ${id}, ${size}) got ${r}`)
  return r
}

test('a cut-off upload resumes at the bytes kept, and completes with exactly the bytes sent', async (t) => {
  const { uploads, files } = await store(t)
  const data = randomBytes(900)
  const first = await receiving(uploads, 'a', 'x', 900)
  assert.equal(first.offset, 0)
  first.write(data.subarray(0, 300))
  first.write(data.subarray(300, 500))
  await first.cutOff()
  assert.equal(uploads.kept, 1)
  const second = await receiving(uploads, 'a', 'x', 900)
  assert.equal(second.offset, 500)
  second.write(data.subarray(500))
  assert.deepEqual(Buffer.from((await second.complete(sha(data)))!), data)
  assert.deepEqual(await files(), [], 'the file is removed once read')
  assert.equal(uploads.bytes(), 0)
})

test('bytes whose sha256 differs complete as null, and nothing is kept', async (t) => {
  const { uploads, files } = await store(t)
  const r = await receiving(uploads, 'a', 'x', 10)
  r.write(randomBytes(10))
  assert.equal(await r.complete(sha(randomBytes(10))), null)
  assert.deepEqual(await files(), [])
})

test('one peer\'s uploads are bounded: in flight at their declared size, cut off at what arrived', async (t) => {
  const { uploads } = await store(t)
  const a = await receiving(uploads, 'p', 'one', 800)
  assert.equal(await uploads.begin('p', 'two', 300), 'peer', 'declared bytes of the peer in flight count')
  a.write(randomBytes(100))
  assert.equal(await uploads.begin('p', 'one', 800), 'in flight', 'the same upload twice at once')
  await a.cutOff()
  // A new archive of the peer drops its cut-off one: a slave sends one archive at a time.
  const b = await receiving(uploads, 'p', 'two', 1000)
  assert.equal(uploads.kept, 0)
  assert.equal(uploads.bytes('p'), 1000)
  assert.equal(await uploads.begin('p', 'three', 1), 'peer')
  await b.cutOff()
  assert.equal(uploads.bytes('p'), 0, 'a cut-off upload with no byte is not kept')
})

test('all uploads are bounded: cut-off ones are dropped oldest first to make room, in-flight ones never', async (t) => {
  const { uploads, clock } = await store(t)
  for (const peer of ['a', 'b']) {
    const r = await receiving(uploads, peer, peer, 1000)
    r.write(randomBytes(1000 - 1))
    await r.cutOff()
    clock.now += 1000
  }
  const c = await receiving(uploads, 'c', 'c', 1000)
  assert.equal(uploads.bytes(), 999 + 1000, 'the oldest cut-off upload (a) was dropped for c')
  assert.equal((await receiving(uploads, 'b', 'b', 1000)).offset, 999, 'b is kept')
  assert.equal(await uploads.begin('d', 'd', 600), 'total', 'the in-flight uploads b and c fill the room')
  await c.cutOff()
})

test('cut-off uploads past the count are dropped oldest first', async (t) => {
  const { uploads, clock, files } = await store(t, { maxTotalBytes: 100_000 })
  for (const peer of ['a', 'b', 'c', 'd', 'e']) {
    const r = await receiving(uploads, peer, peer, 10)
    r.write(randomBytes(5))
    await r.cutOff()
    clock.now += 1
  }
  assert.equal(uploads.kept, 3)
  assert.equal((await files()).length, 3)
  assert.equal((await receiving(uploads, 'a', 'a', 10)).offset, 0, 'a was dropped')
})

test('a cut-off upload not resumed within the TTL is dropped by prune (the timer calls it), file and all', async (t) => {
  const { uploads, clock, files } = await store(t)
  const r = await receiving(uploads, 'a', 'x', 100)
  r.write(randomBytes(50))
  await r.cutOff()
  clock.now += 59_000
  await uploads.prune()
  assert.equal(uploads.kept, 1)
  clock.now += 2_000
  await uploads.prune()
  assert.equal(uploads.kept, 0)
  assert.deepEqual(await files(), [])
})

test('files left by an earlier run are removed at start', async (t) => {
  const first = await store(t)
  const r = await receiving(first.uploads, 'a', 'x', 100)
  r.write(randomBytes(50))
  await r.cutOff()
  assert.equal((await first.files()).length, 1)
  const again = new PartialUploads({ dir: (first.uploads as any).opts.dir, maxPeerBytes: 1, maxTotalBytes: 1, onError: () => {} })
  await again.start()
  await again.stop()
  assert.deepEqual(await first.files(), [])
})
