import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { emptyBayesDb, tokensOf } from '../../../src/crdt/bayes-counters.js'
import { BayesFile } from '../../../src/settings/bayes-file.js'
import { SettingsFileTooLargeError } from '../../../src/errors.js'

const NO_COMMANDS = { exportCommand: '', importCommand: '', commandTimeoutMs: 10_000 }
const db = { ...emptyBayesDb(), numSpam: 1, tokens: tokensOf([['0a1b2c3d4e', { spam: 1, ham: 0, atime: 5 }]]) }

async function folder (t: { after: (f: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-bayes-file-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

test('bayes.txt counts as unchanged only while it is the file last written or read', async (t) => {
  const file = new BayesFile(await folder(t), NO_COMMANDS)
  assert.equal(await file.unchanged(), false, 'never read nor written')
  await file.write(db)
  assert.equal(await file.unchanged(), true, 'as written')
  await writeFile(file.path, 'v\t3\tdb_version\nv\t2\tnum_spam\n')
  assert.equal(await file.unchanged(), false, 'edited')
  assert.equal((await file.read())?.numSpam, 2)
  assert.equal(await file.unchanged(), true, 'as read')
  await rm(file.path)
  assert.equal(await file.unchanged(), false, 'deleted')
})

test('bayes.txt never counts as unchanged with an export command, which rewrites it', async (t) => {
  const file = new BayesFile(await folder(t), { ...NO_COMMANDS, exportCommand: 'true' })
  await file.write(db)
  assert.equal(await file.unchanged(), false)
  await file.read()
  assert.equal(await file.unchanged(), false)
})

test('bayes.txt remembered from before a restart counts as unchanged until it changes, its bad lines still reported', async (t) => {
  const dir = await folder(t)
  const before = new BayesFile(dir, NO_COMMANDS)
  await writeFile(before.path, 'v\t3\tdb_version\nbad\n')
  await before.read()
  const restarted = new BayesFile(dir, { ...NO_COMMANDS, known: before.known })
  assert.equal(await restarted.unchanged(), true)
  assert.deepEqual(restarted.invalid.invalidLines.map(l => l.line), [2])
  await writeFile(restarted.path, 'v\t3\tdb_version\nv\t2\tnum_spam\n')
  assert.equal(await restarted.unchanged(), false)
})

test('bayes.txt that holds a token twice is read, its later line reported as a duplicate', async (t) => {
  const file = new BayesFile(await folder(t), NO_COMMANDS)
  await writeFile(file.path, 'v\t3\tdb_version\nt\t1\t0\t5\t0a1b2c3d4e\nt\t2\t0\t5\t0a1b2c3d4e\n')
  assert.equal((await file.read())?.tokens.spam[0], 1)
  assert.deepEqual(file.invalid.invalidLines.map(l => [l.line, l.reason]), [[3, 'duplicate token']])
})

test('bayes.txt larger than maxFileBytes is not read: SettingsFileTooLargeError, and the problem for status', async (t) => {
  const file = new BayesFile(await folder(t), { ...NO_COMMANDS, maxFileBytes: 16 })
  await writeFile(file.path, 'v\t3\tdb_version\nv\t2\tnum_spam\n')
  await assert.rejects(file.read(), SettingsFileTooLargeError)
  assert.match(file.problem ?? '', /^SettingsFileTooLargeError: /)
})

test('bayes.txt that can no longer be checked counts as changed, and status shows why at once', async (t) => {
  const dir = await folder(t)
  const outside = await folder(t)
  const file = new BayesFile(dir, NO_COMMANDS)
  await file.write(db)
  await rm(file.path)
  await writeFile(join(outside, 'bayes.txt'), 'v\t3\tdb_version\n')
  await symlink(join(outside, 'bayes.txt'), file.path)
  assert.equal(await file.unchanged(), false)
  assert.match(file.problem ?? '', /^UnsafeSettingsFileError: .*symlink out of the settings folder/)
})
