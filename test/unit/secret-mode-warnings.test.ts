import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SecretModeWarnings } from '../../src/file-modes.js'

test('an open secret is shown on every check and logged once; a fixed one is no longer shown', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-modes-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const key = join(dir, 'cluster.key')
  await writeFile(key, 'k', { mode: 0o644 })
  await chmod(key, 0o644)
  const logged: string[] = []
  const w = new SecretModeWarnings([{ what: 'cluster key', path: key }], (line) => { logged.push(line) })
  assert.equal(w.check().length, 1)
  assert.equal(w.check().length, 1)
  assert.equal(logged.length, 1)
  await chmod(key, 0o600)
  assert.deepEqual(w.check(), [])
})
