/**
 * `spamsync export` and `import` as real processes between two stopped nodes (each with its own
 * --data-dir and --settings-dir), and the refusal of hostile archives with one named line that
 * changes nothing. Every test makes its own temp folder and removes it in `t.after`.
 */
import { test, describe, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { unzipSync, zipSync } from 'fflate'
import { LISTS, tempDir, Node, oneLine, snapshot } from '../helpers/cli-node.js'

describe('export and import between two nodes', () => {
  test('carries every list entry into a fresh node, which keeps its own comment and invalid lines', async (t) => {
    const root = await tempDir(t)
    const a = await Node.create(root, 'a', {
      whitelist: '# whitelist of A\nFriend@Example.com OK\npartner.example.org\n',
      blacklist: 'spam.example.net\n10.1.2.0/24 bad range\n',
      autowhitelist: '203.0.113.7 auto 2024-01-01\nauto@example.net\n'
    })
    const b = await Node.create(root, 'b', {
      whitelist: "# B's own whitelist: keep me\nnot a valid key!!\nlocal.example.com mine\n",
      blacklist: '# empty on purpose\n\n'
    })
    const zip = join(root, 'a.zip')

    assert.match(a.exportTo(zip), /whitelist 2, blacklist 2, autowhitelist 2/)
    const out = b.importFrom(zip)
    assert.match(out, /whitelist 2 changed of 2, blacklist 2 changed of 2, autowhitelist 2 changed of 2/)

    // B's comment, invalid and own entry lines stay where they were; A's entries are appended sorted.
    assert.equal(await b.read('whitelist'),
      "# B's own whitelist: keep me\nnot a valid key!!\nlocal.example.com mine\nfriend@example.com OK\npartner.example.org\n")
    assert.equal(await b.read('blacklist'), '# empty on purpose\n\n10.1.2.0/24 bad range\nspam.example.net\n')
    assert.equal(await b.read('autowhitelist'), '203.0.113.7 auto 2024-01-01\nauto@example.net\n')
    // A is untouched by exporting.
    assert.equal(await a.read('whitelist'), '# whitelist of A\nFriend@Example.com OK\npartner.example.org\n')
  })

  test('importing the same archive twice changes nothing the second time', async (t) => {
    const root = await tempDir(t)
    const a = await Node.create(root, 'a', {
      whitelist: 'friend@example.com OK\n',
      blacklist: 'spam.example.net\n',
      autowhitelist: 'auto@example.net\n'
    })
    const b = await Node.create(root, 'b', { whitelist: '# B\nlocal.example.com\n' })
    const zip = join(root, 'a.zip')
    a.exportTo(zip)
    b.importFrom(zip)
    const before = new Map<string, { text: Buffer, ino: number, mtimeMs: number }>()
    for (const list of LISTS) {
      const s = await stat(b.path(list))
      before.set(list, { text: await readFile(b.path(list)), ino: s.ino, mtimeMs: s.mtimeMs })
    }

    const out = b.importFrom(zip)
    for (const list of LISTS) assert.match(out, new RegExp(`${list} 0 changed of 1\\b`))
    assert.doesNotMatch(out, /[1-9]\d* changed/)
    for (const list of LISTS) {
      const was = before.get(list)!
      const s = await stat(b.path(list))
      assert.deepEqual(await readFile(b.path(list)), was.text, `${list} byte-identical`)
      assert.equal(s.ino, was.ino, `${list} not rewritten`)
      assert.equal(s.mtimeMs, was.mtimeMs, `${list} not rewritten`)
    }
  })

  test('a line deleted on A after an earlier export/import is deleted on B by the next import (tombstones travel)', async (t) => {
    const root = await tempDir(t)
    const a = await Node.create(root, 'a', { whitelist: 'keep@example.com\ngone@example.com\n', blacklist: 'gone.example.net\nstays.example.net\n' })
    const b = await Node.create(root, 'b', { whitelist: '# B\n' })
    a.exportTo(join(root, 'a1.zip'))
    b.importFrom(join(root, 'a1.zip'))
    assert.deepEqual(await b.keys('whitelist'), ['gone@example.com', 'keep@example.com'])

    await a.write('whitelist', 'keep@example.com\n')
    await a.write('blacklist', 'stays.example.net\n')
    a.exportTo(join(root, 'a2.zip'))
    const out = b.importFrom(join(root, 'a2.zip'))

    assert.match(out, /whitelist 1 changed of 2, blacklist 1 changed of 2/)
    assert.equal(await b.read('whitelist'), '# B\nkeep@example.com\n')
    assert.equal(await b.read('blacklist'), 'stays.example.net\n')
  })

  test('an older archive does not bring back a line deleted since', async (t) => {
    const root = await tempDir(t)
    const a = await Node.create(root, 'a', { whitelist: 'keep@example.com\ngone@example.com\n' })
    const b = await Node.create(root, 'b')
    a.exportTo(join(root, 'a1.zip'))
    b.importFrom(join(root, 'a1.zip'))
    await a.write('whitelist', 'keep@example.com\n')
    a.exportTo(join(root, 'a2.zip'))
    b.importFrom(join(root, 'a2.zip'))

    const out = b.importFrom(join(root, 'a1.zip'))
    assert.match(out, /whitelist 0 changed of 2/)
    assert.deepEqual(await b.keys('whitelist'), ['keep@example.com'])
  })

  test("a newer local edit on B survives the import of A's older archive (last writer wins)", async (t) => {
    const root = await tempDir(t)
    const a = await Node.create(root, 'a', { whitelist: 'shared@example.com from-a-1\nother@example.com\n' })
    const b = await Node.create(root, 'b')
    a.exportTo(join(root, 'a1.zip'))
    b.importFrom(join(root, 'a1.zip'))
    assert.equal(await b.read('whitelist'), 'other@example.com\nshared@example.com from-a-1\n')

    // A changes the value and exports; afterwards B edits the same key (export scans and stamps it).
    await a.write('whitelist', 'shared@example.com from-a-2\nother@example.com\n')
    a.exportTo(join(root, 'a2.zip'))
    await b.write('whitelist', 'other@example.com\nshared@example.com from-b\n')
    b.exportTo(join(root, 'b.zip'))

    const out = b.importFrom(join(root, 'a2.zip'))
    assert.match(out, /whitelist 0 changed of 2/)
    assert.equal(await b.read('whitelist'), 'other@example.com\nshared@example.com from-b\n')
  })
})

describe('a hostile archive is refused with one named line, exit 1, and changes nothing', () => {
  /** Node B with its own lists and state, and A's real export (which B would accept). */
  async function setup (t: TestContext): Promise<{ root: string, b: Node, real: Uint8Array }> {
    const root = await tempDir(t)
    // Enough entries that A's whitelist dominates the archive: the middle byte lies in its data.
    const many = Array.from({ length: 300 }, (_, i) => `user${i}@example${i % 17}.com note ${(i * 7919) % 1000}`).join('\n')
    const a = await Node.create(root, 'a', { whitelist: `friend@example.com OK\n${many}\n`, blacklist: 'spam.example.net\n', autowhitelist: 'auto@example.net\n' })
    const b = await Node.create(root, 'b', { whitelist: '# B\nnot a valid key!!\nlocal.example.com\n', blacklist: 'b-only.example.net\n' })
    a.exportTo(join(root, 'a.zip'))
    b.exportTo(join(root, 'b.zip')) // gives B a data folder with state in it
    return { root, b, real: await readFile(join(root, 'a.zip')) }
  }

  /** Imports `zip` into B and asserts the refusal and that B's files and data are unchanged. */
  async function refuses (root: string, b: Node, zip: Uint8Array, errorName: RegExp): Promise<string> {
    const file = join(root, 'hostile.zip')
    await writeFile(file, zip)
    const settings = await snapshot(b.settingsDir)
    const data = await snapshot(b.dataDir)
    assert.ok(data.size > 0)
    const cwd = join(root, 'cwd')
    await mkdir(cwd, { recursive: true })

    const r = b.tryImport(file, cwd)
    assert.equal(r.code, 1, `exit code 1, got ${r.code}: ${r.stderr}`)
    assert.equal(r.stdout, '')
    const line = oneLine(r.stderr)
    assert.match(line, errorName)
    assert.match(line, /^spamsync: \w+Error: /)
    assert.deepEqual(await snapshot(b.settingsDir), settings, 'settings folder unchanged')
    assert.deepEqual(await snapshot(b.dataDir), data, 'data folder unchanged')
    return line
  }

  test('an entry named ../evil: UnsafeEntryNameError', async (t) => {
    const { root, b, real } = await setup(t)
    const files = unzipSync(real)
    const zip = zipSync({ ...files, '../evil': new TextEncoder().encode('pwned\n') })
    const line = await refuses(root, b, zip, /UnsafeEntryNameError/)
    assert.match(line, /\.\.\/evil/)
    assert.equal(existsSync(join(root, 'evil')), false)
    assert.equal(existsSync(join(root, 'cwd', 'evil')), false)
  })

  test('a truncated copy of a real export: CorruptArchiveError', async (t) => {
    const { root, b, real } = await setup(t)
    await refuses(root, b, real.subarray(0, Math.floor(real.length * 2 / 3)), /CorruptArchiveError/)
  })

  test('a real export with one byte flipped in the middle: a named corruption error', async (t) => {
    const { root, b, real } = await setup(t)
    const zip = Uint8Array.from(real)
    zip[Math.floor(zip.length / 2)] ^= 0xff
    // The byte lies in the whitelist's deflate data. Depending on the stamps in it, the damaged
    // stream fails to inflate or inflates to the wrong size or CRC (CorruptArchiveError), or to
    // more bytes than declared (CompressionBombError); a sha256 mismatch would be the last net.
    await refuses(root, b, zip, /^spamsync: (CorruptArchiveError|ChecksumMismatchError|CompressionBombError): entry "whitelist\.list"/)
  })

  test('a manifest with formatVersion 2: ManifestError', async (t) => {
    const { root, b, real } = await setup(t)
    const files = unzipSync(real)
    const manifest = JSON.parse(new TextDecoder().decode(files['manifest.json']))
    assert.equal(manifest.formatVersion, 1)
    manifest.formatVersion = 2
    const zip = zipSync({ ...files, 'manifest.json': new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n') })
    const line = await refuses(root, b, zip, /ManifestError/)
    assert.match(line, /format version 2/)
  })
})
