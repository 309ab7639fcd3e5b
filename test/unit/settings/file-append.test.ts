import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { appendFound, appendSettingsFile, MAX_APPEND_BYTES, renderedAppend, settleAppend, type AppendRecord } from '../../../src/settings/file-append.js'
import { readSettingsFile } from '../../../src/settings/settings-file.js'

const PRIOR = Buffer.from('a.example\nb.example\n')
const LINE = Buffer.from('c.example\n')

/** The record of appending LINE to a file holding PRIOR with inode `ino`. */
function record (ino: string): AppendRecord {
  return { ino, size: PRIOR.length, tail: PRIOR.toString('base64'), bytes: LINE.toString('base64') }
}

/** A file holding `bytes` in a fresh folder (removed when the test ends), and its inode. */
async function file (t: TestContext, bytes: Buffer): Promise<{ dir: string, path: string, ino: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-append-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const path = join(dir, 'whitelist.txt')
  await writeFile(path, bytes)
  return { dir, path, ino: String((await stat(path, { bigint: true })).ino) }
}

describe('renderedAppend', () => {
  test('is the bytes of the lines a render adds after the whole old text', () => {
    const old = 'a.example\n'
    assert.deepEqual(renderedAppend([old, 'b.example\n', 'c.example\n'], { start: 10, oldEnd: 10, newEnd: 30 }, old.length), Buffer.from('b.example\nc.example\n'))
  })

  test('is null when the render changes the old text, adds nothing, or adds more than an append takes', () => {
    assert.equal(renderedAppend(['a.example x\n'], { start: 9, oldEnd: 10, newEnd: 12 }, 10), null)
    assert.equal(renderedAppend(['a.example\n'], { start: 10, oldEnd: 10, newEnd: 10 }, 10), null)
    assert.equal(renderedAppend(['a.example\n'], undefined, 10), null)
    const big = 'é'.repeat(MAX_APPEND_BYTES / 2 + 1)
    assert.equal(renderedAppend(['a.example\n', big], { start: 10, oldEnd: 10, newEnd: 10 + big.length }, 10), null)
  })
})

describe('appendFound', () => {
  const ino = '7'
  const found = (bytes: Buffer, other: Partial<{ ino: string }> = {}): ReturnType<typeof appendFound> => appendFound(record(ino), {
    ino: other.ino ?? ino,
    size: bytes.length,
    tail: bytes.length < PRIOR.length ? Buffer.alloc(0) : bytes.subarray(0, PRIOR.length),
    past: bytes.subarray(PRIOR.length)
  })

  test('an append that did not happen: absent', () => {
    assert.equal(found(PRIOR), 'absent')
  })

  test('the whole append, part of it, or zeros in its place: ours', () => {
    assert.equal(found(Buffer.concat([PRIOR, LINE])), 'ours')
    assert.equal(found(Buffer.concat([PRIOR, LINE.subarray(0, 4)])), 'ours')
    assert.equal(found(Buffer.concat([PRIOR, Buffer.alloc(LINE.length)])), 'ours')
  })

  test('more or other bytes than the append, another inode, another file before it, or none: foreign', () => {
    assert.equal(found(Buffer.concat([PRIOR, LINE, Buffer.from('op.example\n')])), 'foreign')
    assert.equal(found(Buffer.concat([PRIOR, Buffer.from('op.ex')])), 'foreign')
    assert.equal(found(Buffer.concat([PRIOR, LINE]), { ino: '8' }), 'foreign')
    assert.equal(found(Buffer.from('x.example\nb.example\nc.example\n')), 'foreign')
    assert.equal(found(Buffer.from('a.example\n')), 'foreign')
    assert.equal(appendFound(record(ino), null), 'foreign')
  })
})

describe('settleAppend', () => {
  test('cuts a partial append back to the file as it was', async (t) => {
    const { path, ino } = await file(t, Buffer.concat([PRIOR, LINE.subarray(0, 3)]))
    assert.equal(await settleAppend(path, record(ino)), 'ours')
    assert.deepEqual(await readFile(path), PRIOR)
  })

  test('cuts a whole append back too: the file is again what its stored view says', async (t) => {
    const { path, ino } = await file(t, Buffer.concat([PRIOR, LINE]))
    assert.equal(await settleAppend(path, record(ino)), 'ours')
    assert.deepEqual(await readFile(path), PRIOR)
  })

  test('leaves a file without the append, or with the operator\'s bytes past it, as it is', async (t) => {
    const untouched = await file(t, PRIOR)
    assert.equal(await settleAppend(untouched.path, record(untouched.ino)), 'absent')
    assert.deepEqual(await readFile(untouched.path), PRIOR)
    const edited = Buffer.concat([PRIOR, LINE, Buffer.from('op.example\n')])
    const operator = await file(t, edited)
    assert.equal(await settleAppend(operator.path, record(operator.ino)), 'foreign')
    assert.deepEqual(await readFile(operator.path), edited)
    assert.equal(await settleAppend(join(operator.dir, 'missing.txt'), record(operator.ino)), 'foreign')
  })
})

describe('appendSettingsFile', () => {
  test('stores the record before it appends, and appends to the same inode', async (t) => {
    const { dir, path, ino } = await file(t, PRIOR)
    const read = await readSettingsFile(dir, 'whitelist.txt', 1 << 20)
    assert.ok(read !== null)
    t.after(async () => { await read.handle.close() })
    let stored: { record: AppendRecord, bytes: Buffer } | undefined
    const outcome = await appendSettingsFile(read, LINE, async (r) => { stored = { record: r, bytes: await readFile(path) } })
    assert.equal(outcome.kind, 'appended')
    assert.deepEqual(stored, { record: record(ino), bytes: PRIOR })
    assert.deepEqual(await readFile(path), Buffer.concat([PRIOR, LINE]))
    assert.equal(String((await stat(path, { bigint: true })).ino), ino)
  })

  test('appends nothing to a file changed since it was read', async (t) => {
    const { dir, path } = await file(t, PRIOR)
    const read = await readSettingsFile(dir, 'whitelist.txt', 1 << 20)
    assert.ok(read !== null)
    t.after(async () => { await read.handle.close() })
    const outcome = await appendSettingsFile(read, LINE, async () => { await writeFile(path, 'op.example\n', { flag: 'a' }) })
    assert.deepEqual(outcome, { kind: 'changed' })
    assert.equal(await readFile(path, 'utf8'), 'a.example\nb.example\nop.example\n')
  })

  test('records a signature a later write of the same size cannot keep', async (t) => {
    const { dir } = await file(t, PRIOR)
    const read = await readSettingsFile(dir, 'whitelist.txt', 1 << 20)
    assert.ok(read !== null)
    t.after(async () => { await read.handle.close() })
    const outcome = await appendSettingsFile(read, LINE, async () => {})
    assert.ok(outcome.kind === 'appended' && outcome.signature !== null)
    assert.ok(outcome.signature.ctimeNs > outcome.signature.mtimeNs)
  })
})
