import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkWritableFolder } from '../../../src/settings/folder-access.js'
import { FileAccessError } from '../../../src/errors.js'

describe('checkWritableFolder', () => {
  it('passes for a writable folder and leaves nothing behind', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'spamsync-access-'))
    t.after(async () => { await rm(dir, { recursive: true, force: true }) })
    await checkWritableFolder(dir)
    assert.deepEqual(await readdir(dir), [])
  })

  it('throws one FileAccessError naming the folder and the code when nothing can be created in it', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'spamsync-access-'))
    t.after(async () => { await rm(root, { recursive: true, force: true }) })
    // The tests run as root, whom permission bits do not stop: a file where the folder should be
    // fails the same way (test/e2e/start-unwritable.test.ts has EACCES, as a service user).
    const dir = join(root, 'settings')
    await writeFile(dir, '')
    await assert.rejects(checkWritableFolder(dir), (err: any) => {
      assert.ok(err instanceof FileAccessError)
      assert.match(err.message, new RegExp(`^settings folder ${dir} is not writable \\(ENOTDIR\\): `))
      assert.ok(!err.message.includes('\n'))
      return true
    })
  })
})
