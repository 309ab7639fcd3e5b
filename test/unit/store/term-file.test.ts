import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readTerm, termFile, writeTerm } from '../../../src/store/term-file.js'
import { MAX_TERM } from '../../../src/election/state.js'
import { TermFileError } from '../../../src/errors.js'

async function dataDir (t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-term-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

test('no term file yet is term 0; a written term reads back', async (t) => {
  const dir = await dataDir(t)
  assert.equal(readTerm(dir), 0)
  writeTerm(dir, 7)
  assert.equal(readTerm(dir), 7)
})

test('a term past MAX_TERM (2^53 from before the cap) reads as the cap, never lower', async (t) => {
  const dir = await dataDir(t)
  for (const [text, term] of [[`${2 ** 53}\n`, MAX_TERM], [`${2 ** 53 - 1}\n`, MAX_TERM], [`${MAX_TERM}\n`, MAX_TERM]] as const) {
    await writeFile(termFile(dir), text)
    assert.equal(readTerm(dir), term, text)
  }
})

test('a term file that holds no term is a TermFileError, not term 0 (a term never goes backwards)', async (t) => {
  const dir = await dataDir(t)
  for (const text of ['', 'abc\n', '-3\n', '1.5\n']) {
    await writeFile(termFile(dir), text)
    assert.throws(() => readTerm(dir), TermFileError, JSON.stringify(text))
  }
})

test('a term file that cannot be read is a TermFileError naming the cause', async (t) => {
  // A folder in the file's place fails the read for any user, root included.
  const dir = await dataDir(t)
  await mkdir(termFile(dir))
  assert.throws(() => readTerm(dir), (err: any) => err instanceof TermFileError && /EISDIR/.test(err.message))
})
