import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { appendFile, mkdir, mkdtemp, open, readFile, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises'
import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { decodeFileText, encodeFileText, openSettingsFile, readReplaced, readSettingsFile, replaceSettingsFile, resolveSettingsFile, type ReadSettingsFile } from '../../../src/settings/settings-file.js'
import { settledSignature } from '../../../src/settings/file-signature.js'
import { SettingsFileTooLargeError, UnsafeSettingsFileError } from '../../../src/errors.js'

/** A fresh settings folder inside a fresh root (for targets outside it), removed when the test ends. */
async function folders (t: TestContext): Promise<{ root: string, dir: string }> {
  const root = await mkdtemp(join(tmpdir(), 'spamsync-settings-file-'))
  t.after(() => rm(root, { recursive: true, force: true }))
  const dir = join(root, 'settings')
  await mkdir(dir)
  return { root, dir }
}

async function read (t: TestContext, dir: string, name: string, max = 1 << 20): Promise<ReadSettingsFile> {
  const file = await readSettingsFile(dir, name, max)
  assert.ok(file !== null)
  t.after(() => file.handle.close())
  return file
}

describe('decodeFileText and encodeFileText', () => {
  test('give back any bytes exactly', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      assert.deepEqual(encodeFileText(decodeFileText(bytes)), Buffer.from(bytes))
    }), { numRuns: 2000 })
  })

  test('decode valid UTF-8 as usual, and other bytes to lone surrogates', () => {
    assert.equal(decodeFileText(Buffer.from('ä.example 😀\n')), 'ä.example 😀\n')
    assert.equal(decodeFileText(Buffer.from([0x61, 0xff, 0xc3, 0x0a])), 'a\udcff\udcc3\n')
    // An encoded surrogate (ED A0 80) is not valid UTF-8 either.
    assert.equal(decodeFileText(Buffer.from([0xed, 0xa0, 0x80])), '\udced\udca0\udc80')
  })

  test('decode ASCII bytes as UTF-8 decodes them', () => {
    fc.assert(fc.property(fc.uint8Array({ max: 0x7f, maxLength: 64 }), (bytes) => {
      assert.equal(decodeFileText(bytes), Buffer.from(bytes).toString('utf8'))
    }), { numRuns: 500 })
  })
})

describe('resolveSettingsFile and readSettingsFile', () => {
  test('refuse a symlink out of the settings folder without reading it', async (t) => {
    const { root, dir } = await folders(t)
    await writeFile(join(root, 'cluster.key'), 'SECRET-KEY-TEXT\n')
    await symlink(join(root, 'cluster.key'), join(dir, 'autowhitelist.txt'))
    await assert.rejects(readSettingsFile(dir, 'autowhitelist.txt', 1 << 20), (err: Error) => {
      assert.ok(err instanceof UnsafeSettingsFileError)
      assert.match(err.message, /symlink out of the settings folder/)
      assert.doesNotMatch(err.message, /SECRET/)
      return true
    })
    // A relative link that climbs out is refused as well.
    await symlink('../cluster.key', join(dir, 'whitelist.txt'))
    await assert.rejects(resolveSettingsFile(dir, 'whitelist.txt'), UnsafeSettingsFileError)
  })

  test('follow a symlink to a file in the settings folder', async (t) => {
    const { dir } = await folders(t)
    await writeFile(join(dir, 'lists-v2.txt'), 'a.com\n')
    await symlink('lists-v2.txt', join(dir, 'whitelist.txt'))
    const file = await read(t, dir, 'whitelist.txt')
    assert.equal(file.bytes.toString(), 'a.com\n')
    assert.equal(file.path, join(await import('node:fs/promises').then(fs => fs.realpath(dir)), 'lists-v2.txt'))
  })

  test('refuse a dangling symlink and a file that is not regular (a FIFO would block)', async (t) => {
    const { root, dir } = await folders(t)
    await symlink(join(root, 'nothing'), join(dir, 'whitelist.txt'))
    await assert.rejects(readSettingsFile(dir, 'whitelist.txt', 1 << 20), UnsafeSettingsFileError)
    assert.equal(spawnSync('mkfifo', [join(dir, 'blacklist.txt')]).status, 0)
    await assert.rejects(readSettingsFile(dir, 'blacklist.txt', 1 << 20), /not a regular file/)
    await mkdir(join(dir, 'bayes.txt'))
    await assert.rejects(readSettingsFile(dir, 'bayes.txt', 1 << 20), UnsafeSettingsFileError)
  })

  test('refuse a file larger than the limit before reading it', async (t) => {
    const { dir } = await folders(t)
    await writeFile(join(dir, 'whitelist.txt'), 'x'.repeat(5000))
    await assert.rejects(readSettingsFile(dir, 'whitelist.txt', 4096), (err: Error) => err instanceof SettingsFileTooLargeError && /5000 bytes, more than maxSettingsFileBytes \(4096\)/.test(err.message))
    assert.equal((await read(t, dir, 'whitelist.txt', 5000)).bytes.length, 5000)
    assert.equal(await readSettingsFile(dir, 'missing.txt', 4096), null)
  })
})

describe('replaceSettingsFile', () => {
  test('replaces the file read when it did not change', async (t) => {
    const { dir } = await folders(t)
    await writeFile(join(dir, 'whitelist.txt'), 'a.com\n')
    const file = await read(t, dir, 'whitelist.txt')
    const outcome = await replaceSettingsFile(file, Buffer.from('b.com\n'))
    assert.equal(outcome.kind, 'replaced')
    assert.equal(outcome.lost, undefined)
    assert.equal(await readFile(join(dir, 'whitelist.txt'), 'utf8'), 'b.com\n')
  })

  test('writes nothing when a line was appended after the read', async (t) => {
    const { dir } = await folders(t)
    await writeFile(join(dir, 'whitelist.txt'), 'a.com\n')
    const file = await read(t, dir, 'whitelist.txt')
    await appendFile(join(dir, 'whitelist.txt'), 'operator.example\n')
    assert.deepEqual(await replaceSettingsFile(file, Buffer.from('b.com\n')), { kind: 'changed' })
    assert.equal(await readFile(join(dir, 'whitelist.txt'), 'utf8'), 'a.com\noperator.example\n')
  })

  test('writes nothing when an editor replaced the file (same size, new inode)', async (t) => {
    const { dir } = await folders(t)
    await writeFile(join(dir, 'whitelist.txt'), 'a.com\n')
    const file = await read(t, dir, 'whitelist.txt')
    await writeFile(join(dir, '.whitelist.txt.swp'), 'c.com\n')
    await rename(join(dir, '.whitelist.txt.swp'), join(dir, 'whitelist.txt'))
    assert.deepEqual(await replaceSettingsFile(file, Buffer.from('b.com\n')), { kind: 'changed' })
    assert.equal(await readFile(join(dir, 'whitelist.txt'), 'utf8'), 'c.com\n')
  })

  test('writes nothing when the file changed in place to the same size just after the read', async (t) => {
    const { dir } = await folders(t)
    await writeFile(join(dir, 'whitelist.txt'), 'a.com\n')
    const file = await read(t, dir, 'whitelist.txt')
    // Same size, and within the file system's clock tick: only the bytes tell.
    const fh = await open(join(dir, 'whitelist.txt'), 'r+')
    await fh.write('z', 0)
    await fh.close()
    assert.deepEqual(await replaceSettingsFile(file, Buffer.from('b.com\n')), { kind: 'changed' })
  })

  test('readReplaced shows what a program that held the old file open wrote after the rename', async (t) => {
    const { dir } = await folders(t)
    await writeFile(join(dir, 'whitelist.txt'), 'a.com\n')
    const held = await open(join(dir, 'whitelist.txt'), 'a')
    t.after(() => held.close())
    const file = await read(t, dir, 'whitelist.txt')
    assert.equal((await replaceSettingsFile(file, Buffer.from('b.com\n'))).kind, 'replaced')
    await held.write('late.example\n')
    assert.equal((await readReplaced(file, 1 << 20))?.toString(), 'a.com\nlate.example\n')
  })

  test('returns a signature that lets the next read skip the file while nothing touched it', async (t) => {
    const { dir } = await folders(t)
    await writeFile(join(dir, 'whitelist.txt'), 'a.com\n')
    const outcome = await replaceSettingsFile(await read(t, dir, 'whitelist.txt'), Buffer.from('b.com\n'))
    assert.ok(outcome.kind === 'replaced')
    // A file system that does not move the change time on rename gives none: nothing to check then.
    if (outcome.signature === null) return
    const known = await readSettingsFile(dir, 'whitelist.txt', 1 << 20, { signature: outcome.signature, bytes: () => Buffer.from('b.com\n') })
    assert.ok(known !== null)
    t.after(() => known.handle.close())
    assert.equal(known.known, true)
    assert.equal(known.bytes.toString(), 'b.com\n')
  })

  test('a file written to after its signature was recorded is read, even in place at the same size', async (t) => {
    const { dir } = await folders(t)
    await writeFile(join(dir, 'whitelist.txt'), 'a.com\n')
    const outcome = await replaceSettingsFile(await read(t, dir, 'whitelist.txt'), Buffer.from('b.com\n'))
    assert.ok(outcome.kind === 'replaced')
    if (outcome.signature === null) return
    const fh = await open(join(dir, 'whitelist.txt'), 'r+')
    await fh.write('z', 0)
    await fh.close()
    const file = await readSettingsFile(dir, 'whitelist.txt', 1 << 20, { signature: outcome.signature, bytes: () => Buffer.from('b.com\n') })
    assert.ok(file !== null)
    t.after(() => file.handle.close())
    assert.equal(file.known, false)
    assert.equal(file.bytes.toString(), 'z.com\n')
  })
})

describe('readSettingsFile signatures', () => {
  test('a file last written well before the read gets a signature', async (t) => {
    const { dir } = await folders(t)
    await writeFile(join(dir, 'whitelist.txt'), 'a.com\n')
    const old = new Date(Date.now() - 60_000)
    await utimes(join(dir, 'whitelist.txt'), old, old)
    const file = await read(t, dir, 'whitelist.txt')
    assert.equal(file.signature?.size, 6n)
  })

  test('a file with another signature than the one known is read', async (t) => {
    const { dir } = await folders(t)
    await writeFile(join(dir, 'whitelist.txt'), 'a.com\n')
    const first = await read(t, dir, 'whitelist.txt')
    const file = await readSettingsFile(dir, 'whitelist.txt', 1 << 20, { signature: { ...first.stat, ctimeNs: first.stat.ctimeNs - 1n }, bytes: () => Buffer.from('stale\n') })
    assert.ok(file !== null)
    t.after(() => file.handle.close())
    assert.equal(file.known, false)
    assert.equal(file.bytes.toString(), 'a.com\n')
  })
})

describe('openSettingsFile and settledSignature', () => {
  test('a file opened without reading that held still gets its signature once read', async (t) => {
    const { dir } = await folders(t)
    await writeFile(join(dir, 'whitelist.txt'), 'a.com\n')
    const old = new Date(Date.now() - 60_000)
    await utimes(join(dir, 'whitelist.txt'), old, old)
    const file = await openSettingsFile(dir, 'whitelist.txt', 1 << 20)
    assert.ok(file !== null)
    t.after(() => file.handle.close())
    assert.equal(file.known, false)
    assert.equal((await settledSignature(file) as { size: bigint } | null)?.size, 6n)
  })

  test('a file appended to after it was opened is found changed, so what was read of it is not trusted', async (t) => {
    const { dir } = await folders(t)
    await writeFile(join(dir, 'whitelist.txt'), 'a.com\n')
    const file = await openSettingsFile(dir, 'whitelist.txt', 1 << 20)
    assert.ok(file !== null)
    t.after(() => file.handle.close())
    await appendFile(join(dir, 'whitelist.txt'), 'b.com\n')
    assert.equal(await settledSignature(file), 'changed')
  })

  test('a file that has the signature known is opened as known', async (t) => {
    const { dir } = await folders(t)
    await writeFile(join(dir, 'whitelist.txt'), 'a.com\n')
    const first = await read(t, dir, 'whitelist.txt')
    const file = await openSettingsFile(dir, 'whitelist.txt', 1 << 20, { signature: { ...first.stat }, bytes: () => Buffer.from('a.com\n') })
    assert.ok(file !== null)
    t.after(() => file.handle.close())
    assert.equal(file.known, true)
  })
})

describe('replaceSettingsFile with a text', () => {
  test('writes a text given as parts as encodeFileText encodes it, also past a slice border inside a pair', async (t) => {
    const { dir } = await folders(t)
    await writeFile(join(dir, 'whitelist.txt'), 'a.com\n')
    // A pair across the first 1 Mi-character slice border, multi-byte characters, and bytes that are not UTF-8.
    const wellFormed = 'x'.repeat((1 << 20) - 1) + '😀ä.example\n' + 'b.com\n'.repeat(1000)
    assert.equal((await replaceSettingsFile(await read(t, dir, 'whitelist.txt'), [wellFormed, 'c.com\n'])).kind, 'replaced')
    assert.deepEqual(await readFile(join(dir, 'whitelist.txt')), encodeFileText(wellFormed + 'c.com\n'))
    const notUtf8 = decodeFileText(Buffer.from([0x61, 0xff, 0x0a]))
    assert.equal((await replaceSettingsFile(await read(t, dir, 'whitelist.txt', 1 << 22), [notUtf8])).kind, 'replaced')
    assert.deepEqual(await readFile(join(dir, 'whitelist.txt')), Buffer.from([0x61, 0xff, 0x0a]))
  })
})

