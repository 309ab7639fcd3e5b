import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { StoreFormatError } from '../../../src/errors.js'
import { fileViewName, StateStore, STORE_FORMAT, type StoredEntry } from '../../../src/store/state-store.js'
import { bucketStats, encodeBucket } from '../../../src/store/bucket-codec.js'
import { MAX_BUCKET_ENTRIES } from '../../../src/store/bucket-layout.js'
import { ListReplica } from '../../../src/replica/list-replica.js'
import { parseListFile } from '../../../src/settings/list-file.js'

/** A store folder in a temp dir, removed when the test ends (also when it fails). */
async function storeDir (t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-state-store-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** Makes `dir` a store of `format` whose whitelist file view is the blob `view`. */
async function storeOfFormat (dir: string, format: number, view?: string): Promise<void> {
  const store = await StateStore.open(dir)
  try {
    await store.write({
      meta: { storeFormat: format },
      blobs: view === undefined ? [] : [{ name: fileViewName('whitelist'), value: Buffer.from(view) }]
    })
  } finally {
    await store.close()
  }
}

describe('StateStore formats', () => {
  test('a new store is written in the current format', async (t) => {
    const dir = await storeDir(t)
    const store = await StateStore.open(dir)
    t.after(async () => { await store.close() })
    assert.equal(await store.getMeta('storeFormat'), STORE_FORMAT)
  })

  // Format 5's change log is deleted on the way (no-change-log.test.ts).
  for (const format of [4, 5]) {
    test(`a format-${format} store is migrated by its format number: its file views stay as they were`, async (t) => {
      const dir = await storeDir(t)
      await storeOfFormat(dir, format, 'a.example\n')
      const store = await StateStore.open(dir)
      t.after(async () => { await store.close() })
      assert.equal(await store.getMeta('storeFormat'), STORE_FORMAT)
      assert.equal(Buffer.from((await store.getBlob(fileViewName('whitelist')))!).toString('utf8'), 'a.example\n')
    })
  }

  test('a format-2 store is migrated: its file views become texts holding the same entries', async (t) => {
    const dir = await storeDir(t)
    // Format 2 kept a file view as `key TAB value` lines ('' value: nothing after the tab).
    await storeOfFormat(dir, 2, 'a.example\tnote with\ttab\nb.example\t')
    const store = await StateStore.open(dir)
    t.after(async () => { await store.close() })
    assert.equal(await store.getMeta('storeFormat'), STORE_FORMAT)
    const text = Buffer.from((await store.getBlob(fileViewName('whitelist')))!).toString('utf8')
    const parsed = parseListFile(text, 'whitelist.txt')
    assert.deepEqual(parsed.invalid, [])
    assert.deepEqual(new Map(parsed.entries), new Map([['a.example', 'note with\ttab'], ['b.example', '']]))
  })

  test('a format-2 store is migrated: its entries load as they were', async (t) => {
    const dir = await storeDir(t)
    await storeOfFormat(dir, 2)
    // Format 2 bucket records: [key, value, present, wallMs, counter, nodeId, lseq, synced].
    const db = new Level<string, string>(dir, { valueEncoding: 'utf8' })
    await db.put('e!whitelist!07', JSON.stringify([['a.example', 'note', 1, 1_700_000_000_000, 2, 'node-b', 5, 1], ['gone.example', '', 0, 1_700_000_000_001, 0, 'node-a', 6, 0]]))
    await db.close()
    const store = await StateStore.open(dir)
    t.after(async () => { await store.close() })
    const entries = await store.loadEntries('whitelist')
    assert.deepEqual(entries, [
      { key: 'a.example', value: 'note', present: true, stamp: { wallMs: 1_700_000_000_000, counter: 2, nodeId: 'node-b' }, lseq: 5, synced: true },
      { key: 'gone.example', value: '', present: false, stamp: { wallMs: 1_700_000_000_001, counter: 0, nodeId: 'node-a' }, lseq: 6, synced: false }
    ])
  })

  test('after the migration, a scan of the file the view came from changes nothing', async (t) => {
    const dir = await storeDir(t)
    await storeOfFormat(dir, 2, 'a.example\tnote\nb.example\t')
    const store = await StateStore.open(dir)
    t.after(async () => { await store.close() })
    const replica = await ListReplica.load(store, 'node-a', () => 1_700_000_000_000, 300_000)
    assert.deepEqual(await replica.applyScan('whitelist', '# my list\nB.example\n\na.example   note\n'), [])
    assert.equal(await replica.fileValue('whitelist', 'a.example'), 'note')
    // A trailing comment an older agent kept local becomes part of its entry (agent 0.2.0): one change.
    const changed = await replica.applyScan('whitelist', '# my list\nB.example\n\na.example   note # why\n')
    assert.deepEqual(changed.map(e => [e.key, e.value]), [['a.example', 'note # why']])
  })

  test('a format-3 store is migrated: its JSON buckets load as they were and are rewritten', async (t) => {
    const dir = await storeDir(t)
    await storeOfFormat(dir, 3)
    // Format 3 bucket: [node ids, ...[key, value, present, wallMs, counter, node index, lseq, synced]].
    const v3 = JSON.stringify([['node-a', 'node-b'], ['a.example', 'note', 1, 1_700_000_000_000, 2, 1, 5, 1], ['gone.example', '', 0, 1_700_000_000_001, 0, 0, 6, 0]])
    const db = new Level<string, string>(dir, { valueEncoding: 'utf8' })
    await db.put('e!whitelist!07', v3)
    await db.close()
    const expected = [
      { key: 'a.example', value: 'note', present: true, stamp: { wallMs: 1_700_000_000_000, counter: 2, nodeId: 'node-b' }, lseq: 5, synced: true },
      { key: 'gone.example', value: '', present: false, stamp: { wallMs: 1_700_000_000_001, counter: 0, nodeId: 'node-a' }, lseq: 6, synced: false }
    ]
    const store = await StateStore.open(dir)
    assert.equal(await store.getMeta('storeFormat'), STORE_FORMAT)
    assert.deepEqual(await store.loadEntries('whitelist'), expected)
    await store.close()
    const raw = new Level<string, string>(dir, { valueEncoding: 'utf8' })
    assert.deepEqual(await raw.keys({ gt: 'e!', lt: 'e"' }).all(), ['e!whitelist!'])
    await raw.close()
    const reopened = await StateStore.open(dir)
    t.after(async () => { await reopened.close() })
    assert.deepEqual(await reopened.loadEntries('whitelist'), expected)
  })

  /** Entries of `n` keys spread over format 6's 256 buckets as it kept them: `e!<dataset>!<hex2>` by a hash of the key. */
  function format6Buckets (n: number): { entries: StoredEntry[], records: Map<string, Uint8Array> } {
    const entries: StoredEntry[] = Array.from({ length: n }, (_, i) => ({ key: `h${(i * 7919) % n}.example`, value: i % 3 === 0 ? 'note' : '', present: i % 5 !== 0, stamp: { wallMs: 1_700_000_000_000 + i, counter: i % 4, nodeId: i % 2 === 0 ? 'node-a' : 'node-b' }, lseq: i + 1, synced: i % 2 === 0 }))
    const byBucket = new Map<string, StoredEntry[]>()
    for (const e of entries) {
      let h = 0x811c9dc5
      for (let i = 0; i < e.key.length; i++) h = Math.imul(h ^ e.key.charCodeAt(i), 0x01000193)
      const name = `e!whitelist!${((h >>> 0) % 256).toString(16).padStart(2, '0')}`
      byBucket.set(name, [...(byBucket.get(name) ?? []), e])
    }
    return { entries, records: new Map([...byBucket].map(([name, list]) => [name, encodeBucket(list)!])) }
  }

  async function putRecords (dir: string, records: Map<string, Uint8Array>): Promise<void> {
    const db = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' })
    for (const [k, v] of records) await db.put(k, v)
    await db.close()
  }

  test('a format-6 store is migrated: its hash buckets are cut into key ranges of at most MAX_BUCKET_ENTRIES holding the same entries, the old ones deleted', async (t) => {
    const dir = await storeDir(t)
    await storeOfFormat(dir, 6, 'a.example\n')
    const { entries, records } = format6Buckets(3_000)
    await putRecords(dir, records)
    const store = await StateStore.open(dir)
    t.after(async () => { await store.close() })
    assert.equal(await store.getMeta('storeFormat'), STORE_FORMAT)
    assert.deepEqual(await store.loadEntries('whitelist'), [...entries].sort((a, b) => a.key < b.key ? -1 : 1))
    const buckets = await store.loadBuckets('whitelist')
    assert.ok(buckets.length >= 3_000 / MAX_BUCKET_ENTRIES && buckets.every(b => !records.has(b.where)), buckets.map(b => b.where).join(' '))
    for (const { bound, bytes, where } of buckets) {
      const stats = bucketStats(bytes, where)
      assert.ok(stats.entries <= MAX_BUCKET_ENTRIES && stats.firstKey === (bound === '' ? stats.firstKey : bound))
    }
    assert.equal(Buffer.from((await store.getBlob(fileViewName('whitelist')))!).toString('utf8'), 'a.example\n')
  })

  test('a format-6 store with a damaged bucket is refused with StoreFormatError naming it, and nothing is deleted or rewritten', async (t) => {
    const dir = await storeDir(t)
    await storeOfFormat(dir, 6)
    const { records } = format6Buckets(600)
    const [name, bytes] = [...records][7]
    records.set(name, bytes.subarray(0, bytes.length - 2))
    await putRecords(dir, records)
    await assert.rejects(StateStore.open(dir), (err: unknown) => err instanceof StoreFormatError && err.message.includes(name))
    const db = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' })
    t.after(async () => { await db.close() })
    assert.equal(Buffer.from((await db.get('m!storeFormat'))).toString(), '6')
    assert.deepEqual((await db.keys({ gt: 'e!', lt: 'e"' }).all()).sort(), [...records.keys()].sort())
  })

  test('a store of another format is refused with StoreFormatError naming both formats', async (t) => {
    const dir = await storeDir(t)
    await storeOfFormat(dir, 1)
    await assert.rejects(StateStore.open(dir), (err: unknown) => {
      assert.ok(err instanceof StoreFormatError)
      assert.match(err.message, new RegExp(`has store format 1; this agent reads format ${STORE_FORMAT}`))
      return true
    })
  })
})
