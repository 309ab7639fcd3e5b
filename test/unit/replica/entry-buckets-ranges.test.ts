/** EntryBuckets with the store: buckets are key ranges, cut past MAX_BUCKET_ENTRIES, read in key order. */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { Level } from 'level'
import { StoreFormatError } from '../../../src/errors.js'
import { EntryBuckets } from '../../../src/replica/entry-buckets.js'
import { keyOrder } from '../../../src/archive/list-codec.js'
import { bucketStats, encodeBucket } from '../../../src/store/bucket-codec.js'
import { MAX_BUCKET_ENTRIES } from '../../../src/store/bucket-layout.js'
import { StateStore, type StoredEntry } from '../../../src/store/state-store.js'
import { ListReplica } from '../../../src/replica/list-replica.js'
import { finish } from '../../../src/pace.js'

const DS = 'blacklist'

async function openStore (t: TestContext): Promise<{ store: StateStore, dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-entry-ranges-'))
  const store = await StateStore.open(dir)
  t.after(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })
  return { store, dir }
}

let lseq = 0
const entry = (key: string, present = true): StoredEntry => ({ key, value: present ? `v-${key}` : '', present, stamp: { wallMs: 1_700_000_000_000 + lseq, counter: 0, nodeId: 'n1' }, lseq: ++lseq, synced: false })
const key = (i: number): string => `host-${String(i).padStart(6, '0')}.example`

/** Puts `entries` through prepare, the store and apply, as ListReplica does; the change's writes. */
async function put (store: StateStore, held: EntryBuckets, entries: StoredEntry[]): Promise<Array<{ bucket: string, bytes: Uint8Array | null }>> {
  const change = finish(held.prepare(new Map(entries.map(e => [e.key, e])), new Map()))
  await store.write({ encodedBuckets: change.writes.map(w => ({ dataset: DS, ...w })) })
  held.apply(change)
  return change.writes
}

async function drop (store: StateStore, held: EntryBuckets, keys: string[]): Promise<void> {
  const change = held.prepareDrop(keys, new Map())
  await store.write({ encodedBuckets: change.writes.map(w => ({ dataset: DS, ...w })) })
  held.apply(change)
}

/** The stored buckets: bound, entry count, first and last key, in key order. */
async function layout (store: StateStore): Promise<Array<{ bound: string, entries: number, first: string, last: string }>> {
  return (await store.loadBuckets(DS)).map(({ bound, bytes, where }) => {
    const s = bucketStats(bytes, where)
    return { bound, entries: s.entries, first: s.firstKey, last: s.lastKey }
  }).sort((a, b) => a.bound < b.bound ? -1 : 1)
}

/** Every bucket holds at most MAX_BUCKET_ENTRIES keys, all in its range, and the ranges follow each other. */
function assertRanges (buckets: Awaited<ReturnType<typeof layout>>): void {
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i]
    assert.ok(b.entries >= 1 && b.entries <= MAX_BUCKET_ENTRIES, `bucket ${JSON.stringify(b.bound)} holds ${b.entries}`)
    assert.ok(b.bound <= b.first, `bucket ${JSON.stringify(b.bound)} starts at ${b.first}`)
    if (i + 1 < buckets.length) assert.ok(b.last < buckets[i + 1].bound, `bucket ${JSON.stringify(b.bound)} ends at ${b.last}, the next starts at ${buckets[i + 1].bound}`)
  }
}

describe('EntryBuckets as key ranges', () => {
  test('a bucket past MAX_BUCKET_ENTRIES is cut at its median, in the same write, and every entry is still found', async (t) => {
    const { store } = await openStore(t)
    const held = await EntryBuckets.load(store, DS)
    await put(store, held, Array.from({ length: MAX_BUCKET_ENTRIES }, (_, i) => entry(key(i * 2))))
    assert.equal((await layout(store)).length, 1)
    const writes = await put(store, held, [entry(key(1))])
    assert.deepEqual(writes.map(w => w.bucket), ['', key(2 * 255)])
    const buckets = await layout(store)
    assert.deepEqual(buckets.map(b => b.entries), [256, 257])
    assertRanges(buckets)
    for (let i = 0; i < MAX_BUCKET_ENTRIES; i++) assert.equal(held.get(key(i * 2))?.key, key(i * 2))
    assert.equal(held.get(key(1))?.key, key(1))
    assert.equal(held.get(key(3)), undefined)
  })

  test('a one-key change to a large dataset rewrites one bucket of at most MAX_BUCKET_ENTRIES', async (t) => {
    const { store } = await openStore(t)
    const held = await EntryBuckets.load(store, DS)
    await put(store, held, Array.from({ length: 20_000 }, (_, i) => entry(key(i * 2))))
    const writes = await put(store, held, [entry(key(12_345))])
    assert.equal(writes.length, 1)
    const stats = bucketStats(writes[0].bytes as Uint8Array, 'written')
    assert.ok(stats.entries <= MAX_BUCKET_ENTRIES, `${stats.entries} entries re-encoded`)
    assert.ok(stats.firstKey <= key(12_345) && key(12_345) <= stats.lastKey)
  })

  test('every entry read as columns comes in key order, one run per bucket, so keyOrder merges nothing', async (t) => {
    const { store } = await openStore(t)
    const held = await EntryBuckets.load(store, DS)
    const keys = Array.from({ length: 5_000 }, (_, i) => `${(i * 7919) % 5_000}.example`)
    await put(store, held, keys.map(k => entry(k)))
    const cols = held.columns()
    assert.ok(cols.runEnds.length > 10, `${cols.runEnds.length} runs`)
    assert.deepEqual(cols.keys, [...keys].sort())
    assert.deepEqual([...keyOrder(cols.keys, cols.runEnds)], cols.keys.map((_, i) => i))
    assert.deepEqual((await store.loadEntryColumns(DS)).keys, cols.keys)
  })

  test('a bucket a drop empties is deleted and its range joins the one before', async (t) => {
    const { store } = await openStore(t)
    const held = await EntryBuckets.load(store, DS)
    await put(store, held, Array.from({ length: 1_000 }, (_, i) => entry(key(i))))
    const before = await layout(store)
    const second = Array.from({ length: 1_000 }, (_, i) => key(i)).filter(k => k >= before[1].bound && (before[2] === undefined || k < before[2].bound))
    await drop(store, held, second)
    assert.deepEqual((await layout(store)).map(b => b.bound), before.filter((_, i) => i !== 1).map(b => b.bound))
    await put(store, held, [entry(second[3])])
    assert.equal(held.get(second[3])?.key, second[3])
    assertRanges(await layout(store))
  })

  test('puts and drops in any order hold what a Map holds, in key order, each bucket in its range and within the bound, also reloaded (property)', async (t) => {
    const { store, dir } = await openStore(t)
    await store.close()
    const ops = fc.array(fc.record({
      drop: fc.boolean(),
      // Ranges of keys: a put of a few hundred lands in one bucket and cuts it.
      from: fc.nat(3_000),
      count: fc.integer({ min: 1, max: 700 }),
      step: fc.integer({ min: 1, max: 7 })
    }), { minLength: 1, maxLength: 12 })
    await fc.assert(fc.asyncProperty(ops, async (steps) => {
      await rm(dir, { recursive: true, force: true })
      const s = await StateStore.open(dir)
      try {
        const held = await EntryBuckets.load(s, DS)
        const model = new Map<string, StoredEntry>()
        for (const { drop: isDrop, from, count, step } of steps) {
          const keys = Array.from({ length: count }, (_, i) => key(from + i * step))
          if (isDrop) {
            await drop(s, held, keys)
            for (const k of keys) model.delete(k)
          } else {
            const entries = keys.map(k => entry(k, k.length % 2 === 0))
            await put(s, held, entries)
            for (const e of entries) model.set(e.key, e)
          }
          const expected = [...model.values()].sort((a, b) => a.key < b.key ? -1 : 1)
          assert.deepEqual([...held.values()], expected)
          assert.equal(held.size, model.size)
          assert.equal(held.presentCount, expected.filter(e => e.present).length)
          assertRanges(await layout(s))
        }
        const reloaded = await EntryBuckets.load(s, DS)
        assert.deepEqual([...reloaded.values()], [...held.values()])
        assert.deepEqual(reloaded.changedSince(lseq - 50).map(e => e.key).sort(), held.changedSince(lseq - 50).map(e => e.key).sort())
      } finally {
        await s.close()
      }
    }), { numRuns: 25 })
  })
})

describe('EntryBuckets.presentInKeyOrder', () => {
  test('the present entries of every bucket come as keys and fields in key order, tombstones left out', async (t) => {
    const { store } = await openStore(t)
    const held = new EntryBuckets(DS)
    const n = 3 * MAX_BUCKET_ENTRIES
    // Put in an order other than the keys', every third a tombstone.
    await put(store, held, Array.from({ length: n }, (_, i) => entry(key((i * 7) % n), (i * 7) % n % 3 !== 0)))
    const present = Array.from({ length: n }, (_, i) => key(i)).filter((_, i) => i % 3 !== 0)
    assert.ok((await layout(store)).length > 1, 'several buckets')
    assert.deepEqual(held.presentInKeyOrder(), { keys: present, values: present.map(k => `v-${k}`) })
  })
})

describe('EntryBuckets.load of damaged buckets', () => {
  /** A store holding `records` (store key -> bytes) as the dataset's buckets. */
  async function storeWith (t: TestContext, records: Record<string, Uint8Array>): Promise<StateStore> {
    const { store, dir } = await openStore(t)
    await store.close()
    const db = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' })
    for (const [k, v] of Object.entries(records)) await db.put(k, v)
    await db.close()
    const reopened = await StateStore.open(dir)
    t.after(async () => { await reopened.close() })
    return reopened
  }

  test('a bucket holding a key before its bound is a StoreFormatError naming it', async (t) => {
    const store = await storeWith(t, { [`e!${DS}!`]: encodeBucket([entry('a.example')])!, [`e!${DS}!m`]: encodeBucket([entry('c.example')])! })
    await assert.rejects(EntryBuckets.load(store, DS), (err: unknown) => err instanceof StoreFormatError && err.message.includes(`e!${DS}!m`))
  })

  test('a bucket holding a key at or past the next bound is a StoreFormatError naming it', async (t) => {
    const store = await storeWith(t, { [`e!${DS}!`]: encodeBucket([entry('a.example'), entry('n.example')])!, [`e!${DS}!m`]: encodeBucket([entry('p.example')])! })
    await assert.rejects(EntryBuckets.load(store, DS), (err: unknown) => err instanceof StoreFormatError && err.message.includes(`e!${DS}!:`))
  })

  test('a truncated bucket is a StoreFormatError naming it', async (t) => {
    const bytes = encodeBucket([entry('a.example'), entry('b.example')])!
    const store = await storeWith(t, { [`e!${DS}!`]: bytes.subarray(0, bytes.length - 3) })
    await assert.rejects(EntryBuckets.load(store, DS), (err: unknown) => err instanceof StoreFormatError && err.message.includes(`e!${DS}!`))
  })

  test('a bucket whose records are out of key order (written before format 4) has its present entries ordered from the columns', async (t) => {
    // Node "n", then records "b" and "a", each: key length 1, value length 0, present, wallMs 1, counter 0, node 0, lseq.
    const store = await storeWith(t, { [`e!${DS}!`]: Uint8Array.from([1, 3, 0x6e, 0x62, 0x61, 1, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 2]) })
    assert.equal((await EntryBuckets.load(store, DS)).presentInKeyOrder(), null)
    const replica = await ListReplica.load(store, 'slave', () => 1_700_000_000_000, 60_000)
    assert.deepEqual(replica.presentInKeyOrder(DS), { keys: ['a', 'b'], values: ['', ''] })
  })

  test('with no first bucket, keys before the first bound go to a new one', async (t) => {
    const store = await storeWith(t, { [`e!${DS}!m`]: encodeBucket([entry('p.example')])! })
    const held = await EntryBuckets.load(store, DS)
    await put(store, held, [entry('a.example')])
    assert.deepEqual((await layout(store)).map(b => [b.bound, b.first]), [['', 'a.example'], ['m', 'p.example']])
  })
})
