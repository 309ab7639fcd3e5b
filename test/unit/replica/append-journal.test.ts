/**
 * AppendJournal's records as read back from the store: settling a record may truncate a
 * file, so one the store holds damaged is refused by name before it is used.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StoreFormatError } from '../../../src/errors.js'
import { AppendJournal, storedAppendRecord } from '../../../src/replica/append-journal.js'
import { MAX_APPEND_BYTES, type AppendRecord } from '../../../src/settings/file-append.js'
import { StateStore } from '../../../src/store/state-store.js'

const b64 = (text: string): string => Buffer.from(text).toString('base64')

/** A record as appendSettingsFile stores it: a 12-byte file, one line appended. */
const GOOD: AppendRecord = { ino: '1234567', size: 12, tail: b64('a.example\nb\n'), bytes: b64('c.example\n') }

async function store (t: TestContext): Promise<StateStore> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-append-journal-'))
  const s = await StateStore.open(dir)
  t.after(async () => {
    await s.close()
    await rm(dir, { recursive: true, force: true })
  })
  return s
}

describe('storedAppendRecord', () => {
  test('takes a record as an append stores it', () => {
    assert.deepEqual(storedAppendRecord(structuredClone(GOOD), 'fileAppend.whitelist'), GOOD)
  })

  test('takes a record of an append to an empty file', () => {
    const empty = { ...GOOD, size: 0, tail: '' }
    assert.deepEqual(storedAppendRecord(empty, 'm'), empty)
  })

  const damaged: Array<[string, unknown]> = [
    ['not an object', 'text'],
    ['null fields', { ino: null, size: null, tail: null, bytes: null }],
    ['an inode that is not decimal', { ...GOOD, ino: '-1' }],
    ['an inode past 2^64', { ...GOOD, ino: '1'.repeat(21) }],
    ['a negative size', { ...GOOD, size: -1 }],
    ['a fractional size', { ...GOOD, size: 1.5 }],
    ['a size past 2^53', { ...GOOD, size: 2 ** 60 }],
    ['a tail longer than the file', { ...GOOD, size: 3 }],
    ['a tail longer than kept', { ...GOOD, size: 10_000, tail: b64('x'.repeat(257)) }],
    ['a tail that is not base64', { ...GOOD, tail: 'a.example' }],
    ['nothing appended', { ...GOOD, bytes: '' }],
    ['more appended than an append writes', { ...GOOD, bytes: b64('x'.repeat(MAX_APPEND_BYTES + 1)) }],
    ['bytes that are not base64', { ...GOOD, bytes: '%%%' }]
  ]
  for (const [what, value] of damaged) {
    test(`refuses ${what} with StoreFormatError naming the meta`, () => {
      assert.throws(() => storedAppendRecord(value, 'fileAppend.whitelist'), (err: Error) => err instanceof StoreFormatError && err.message.startsWith('fileAppend.whitelist: '))
    })
  }
})

describe('AppendJournal.load', () => {
  test('reads back a record it stored', async (t) => {
    const s = await store(t)
    await (await AppendJournal.load(s)).begin('whitelist', GOOD)
    assert.deepEqual((await AppendJournal.load(s)).pending('whitelist'), GOOD)
  })

  test('refuses a damaged record in the store and leaves it there', async (t) => {
    const s = await store(t)
    await s.write({ meta: { 'fileAppend.blacklist': { ...GOOD, size: -5 } } })
    await assert.rejects(AppendJournal.load(s), StoreFormatError)
    assert.deepEqual(await s.getMeta('fileAppend.blacklist'), { ...GOOD, size: -5 })
  })
})
