/** The data folder kept 0700, and warnings for secrets on disk that group or others may open. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, chown, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makePrivateFolder, secretWarnings } from '../../src/file-modes.js'

async function tempDir (t: any): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-modes-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777

test('a new data folder is made 0700, its new parents with the usual mode', async (t) => {
  const root = await tempDir(t)
  const dir = join(root, 'parent', 'data')
  const old = process.umask(0o022)
  try {
    assert.equal(await makePrivateFolder(dir), null)
  } finally {
    process.umask(old)
  }
  assert.equal(await modeOf(dir), 0o700)
  assert.equal(await modeOf(join(root, 'parent')), 0o755)
})

test('an existing 0755 data folder of this user is tightened to 0700, and its old mode told', async (t) => {
  const dir = join(await tempDir(t), 'data')
  await mkdir(dir)
  await chmod(dir, 0o755)
  assert.equal(await makePrivateFolder(dir), 0o755)
  assert.equal(await modeOf(dir), 0o700)
  assert.equal(await makePrivateFolder(dir), null, 'a second open changes nothing')
})

test('a 0644 cluster key and an open data folder of another user are warned about; 0600 and missing files are not', async (t) => {
  const root = await tempDir(t)
  const key = join(root, 'cluster.key')
  const token = join(root, 'http.token')
  await writeFile(key, 'k', { mode: 0o644 })
  await chmod(key, 0o644)
  await writeFile(token, 't', { mode: 0o600 })
  const secrets = [{ what: 'cluster key', path: key }, { what: 'control token', path: token }, { what: 'other', path: join(root, 'missing') }]
  assert.deepEqual(secretWarnings(secrets), [`the cluster key ${key} is open to group or others (mode 0644): chmod 600 ${key}`])
  await chmod(key, 0o600)
  assert.deepEqual(secretWarnings(secrets), [])

  const foreign = join(root, 'foreign')
  await mkdir(foreign)
  await chmod(foreign, 0o750)
  if (process.getuid?.() !== 0) {
    t.diagnostic('not root: the folder of another user is not tried')
    return
  }
  await chown(foreign, 65534, 65534)
  assert.equal(await makePrivateFolder(foreign), null)
  assert.equal(await modeOf(foreign), 0o750, 'another user\'s folder is left as it is')
  assert.deepEqual(secretWarnings([{ what: 'data folder', path: foreign, folder: true }]),
    [`the data folder ${foreign} is open to group or others (mode 0750) and owned by another user, so the agent left it: chmod 700 ${foreign}`])
})
