import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkWritableFolder } from '../../../src/settings/folder-access.js'
import { FileAccessError } from '../../../src/errors.js'

describe('checkWritableFolder', () => {
  it('passes for a writable folder and leaves nothing behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spamsync-access-'))
    try {
      await checkWritableFolder(dir)
      assert.deepEqual(await readdir(dir), [])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('throws one FileAccessError naming the folder and the code when nothing can be created in it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spamsync-access-'))
    // Immutable: not even root (these tests run as root) can create a file in it.
    execFileSync('chattr', ['+i', dir])
    try {
      await assert.rejects(checkWritableFolder(dir), (err: any) => {
        assert.ok(err instanceof FileAccessError)
        assert.match(err.message, new RegExp(`^settings folder ${dir} is not writable \\((EPERM|EACCES)\\)`))
        assert.ok(!err.message.includes('\n'))
        return true
      })
    } finally {
      execFileSync('chattr', ['-i', dir])
      await rm(dir, { recursive: true, force: true })
    }
  })
})
