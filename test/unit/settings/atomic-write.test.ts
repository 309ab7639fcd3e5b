import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { writeFileAtomic } from '../../../src/settings/atomic-write.js'

/** A fresh folder, removed when the test ends. */
async function tempDir (t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-atomic-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function modeOf (path: string): Promise<number> {
  return (await stat(path)).mode & 0o7777
}

describe('writeFileAtomic', () => {
  test('creates a new file with the data', async (t) => {
    const dir = await tempDir(t)
    const file = join(dir, 'whitelist.txt')
    await writeFileAtomic(file, 'a.com\n')
    assert.equal(await readFile(file, 'utf8'), 'a.com\n')
  })

  test('writes bytes as given', async (t) => {
    const dir = await tempDir(t)
    const file = join(dir, 'bayes.bin')
    await writeFileAtomic(file, new Uint8Array([0, 1, 2, 255]))
    assert.deepEqual(new Uint8Array(await readFile(file)), new Uint8Array([0, 1, 2, 255]))
  })

  test('replaces an existing file', async (t) => {
    const dir = await tempDir(t)
    const file = join(dir, 'whitelist.txt')
    await writeFile(file, 'old contents that are longer\n')
    await writeFileAtomic(file, 'new\n')
    assert.equal(await readFile(file, 'utf8'), 'new\n')
  })

  test('gives a new file mode 0644 by default, whatever the umask', async (t) => {
    const dir = await tempDir(t)
    const file = join(dir, 'whitelist.txt')
    const umask = process.umask(0o077)
    try {
      await writeFileAtomic(file, 'x')
    } finally {
      process.umask(umask)
    }
    assert.equal(await modeOf(file), 0o644)
  })

  test('gives a new file the mode asked for', async (t) => {
    const dir = await tempDir(t)
    const file = join(dir, 'cluster.key')
    await writeFileAtomic(file, 'secret', { mode: 0o600 })
    assert.equal(await modeOf(file), 0o600)
  })

  test('keeps the mode of the file it replaces', async (t) => {
    const dir = await tempDir(t)
    const file = join(dir, 'whitelist.txt')
    await writeFile(file, 'old')
    await chmod(file, 0o640)
    await writeFileAtomic(file, 'new', { mode: 0o600 })
    assert.equal(await modeOf(file), 0o640)
  })

  test('replaces the target of a symlink and keeps the link', async (t) => {
    const dir = await tempDir(t)
    const real = join(dir, 'real.txt')
    const link = join(dir, 'link.txt')
    await writeFile(real, 'old')
    await symlink('real.txt', link)
    await writeFileAtomic(link, 'new')
    assert.equal(await readlink(link), 'real.txt')
    assert.equal(await readFile(real, 'utf8'), 'new')
  })

  test('leaves no temp file behind after success', async (t) => {
    const dir = await tempDir(t)
    await writeFileAtomic(join(dir, 'a.txt'), 'x')
    await writeFileAtomic(join(dir, 'a.txt'), 'y')
    assert.deepEqual(await readdir(dir), ['a.txt'])
  })

  test('removes the temp files a killed writer left, and keeps those of a live one', async (t) => {
    const dir = await tempDir(t)
    const dead = spawnSync(process.execPath, ['-e', '']).pid
    await writeFile(join(dir, `.a.txt.tmp-${dead}-0123456789ab`), 'half')
    await writeFile(join(dir, `.a.txt.tmp-${process.pid}-0123456789ab`), 'in flight')
    await writeFile(join(dir, `.b.txt.tmp-${dead}-0123456789ab`), 'another file')
    await writeFileAtomic(join(dir, 'a.txt'), 'x')
    assert.deepEqual((await readdir(dir)).sort(), [`.a.txt.tmp-${process.pid}-0123456789ab`, `.b.txt.tmp-${dead}-0123456789ab`, 'a.txt'])
  })

  test('on failure rethrows, leaves the old target untouched and removes the temp file', async (t) => {
    const dir = await tempDir(t)
    // A non-empty folder cannot be renamed over: the rename fails after the temp file is written.
    const target = join(dir, 'blacklist.txt')
    await mkdir(target)
    await writeFile(join(target, 'keep.txt'), 'kept')
    await assert.rejects(writeFileAtomic(target, 'new'), (err: NodeJS.ErrnoException) => {
      assert.ok(['EISDIR', 'ENOTEMPTY', 'EEXIST', 'ENOTDIR'].includes(err.code ?? ''), String(err))
      return true
    })
    assert.deepEqual(await readdir(dir), ['blacklist.txt'])
    assert.equal(await readFile(join(target, 'keep.txt'), 'utf8'), 'kept')
  })

  test('fails without creating anything when the folder does not exist', async (t) => {
    const dir = await tempDir(t)
    await assert.rejects(writeFileAtomic(join(dir, 'missing', 'a.txt'), 'x'), { code: 'ENOENT' })
    assert.deepEqual(await readdir(dir), [])
  })

  test('runs concurrent writes to one file without mixing them', async (t) => {
    const dir = await tempDir(t)
    const file = join(dir, 'a.txt')
    const bodies = Array.from({ length: 10 }, (_, i) => `${i}`.repeat(10_000))
    await Promise.all(bodies.map(b => writeFileAtomic(file, b)))
    assert.ok(bodies.includes(await readFile(file, 'utf8')))
    assert.deepEqual(await readdir(dir), ['a.txt'])
  })
})
