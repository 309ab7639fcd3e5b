import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { appendFile, mkdtemp, open, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import fs, { writeSync } from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { join } from 'node:path'
import { openLocalState, type LocalState } from '../../../src/local-state.js'
import { NOT_UTF8, REPORTED_INVALID_LINES, REPORTED_LINE_CHARS } from '../../../src/settings/list-file.js'
import { UnsafeSettingsFileError } from '../../../src/errors.js'
import type { Entry } from '../../../src/crdt/lww-set.js'

/** A node's local state in a fresh root (data and settings folders inside), closed and removed when the test ends. */
async function node (t: TestContext, maxSettingsFileBytes?: number): Promise<{ root: string, dir: string, state: LocalState }> {
  const root = await mkdtemp(join(tmpdir(), 'spamsync-folder-'))
  const dir = join(root, 'settings')
  const state = await openLocalState({ dataDir: join(root, 'data'), settingsDir: dir, maxSkewMs: 60_000, maxSettingsFileBytes })
  t.after(async () => {
    await state.close()
    await rm(root, { recursive: true, force: true })
  })
  return { root, dir, state }
}

// An entry as the master would send it: stamped long ago by another node, so any local stamp wins.
function remote (key: string, value = ''): Entry {
  return { key, value, present: true, stamp: { wallMs: 1, counter: 0, nodeId: 'other' } }
}

// A removal from another node, newer than the local stamps: a write that takes a line out
// rewrites the file (temp file, rename) where one that only adds lines appends them in place.
function gone (key: string): Entry {
  return { key, value: '', present: false, stamp: { wallMs: Date.now() + 1000, counter: 0, nodeId: 'other' } }
}

describe('SettingsFolder', () => {
  test('refuses a list file that is a symlink out of the folder: not read, not shown, not written through', async (t) => {
    const { root, dir, state } = await node(t)
    const secret = join(root, 'cluster.key')
    await writeFile(secret, 'SECRET-KEY-TEXT\n')
    await symlink(secret, join(dir, 'autowhitelist.txt'))
    const { failed } = await state.folder.scan()
    assert.deepEqual(failed.map(f => f.dataset), ['autowhitelist'])
    assert.match(state.folder.problem('autowhitelist') ?? '', /^UnsafeSettingsFileError: .*symlink out of the settings folder/)
    assert.doesNotMatch(JSON.stringify([...state.folder.invalid]), /SECRET/)
    // A known problem is not reported again by the next scan.
    assert.deepEqual((await state.folder.scan()).failed, [])

    await state.replica.merge('autowhitelist', [remote('a.example')], { synced: true })
    await assert.rejects(state.folder.write('autowhitelist'), UnsafeSettingsFileError)
    assert.equal(await readFile(secret, 'utf8'), 'SECRET-KEY-TEXT\n')
  })

  test('keeps a line that is not UTF-8 byte for byte, reports it and never syncs it', async (t) => {
    const { dir, state } = await node(t)
    const bytes = Buffer.concat([Buffer.from('a.example\n'), Buffer.from([0x62, 0xff, 0xfe, 0x2e, 0x63, 0x6f, 0x6d, 0x20, 0xe9, 0x0a]), Buffer.from('# caf'), Buffer.from([0xe9, 0x0a])])
    await writeFile(join(dir, 'whitelist.txt'), bytes)
    const { changed } = await state.folder.scan()
    assert.deepEqual(changed.get('whitelist')?.map(e => e.key), ['a.example'])
    const report = state.folder.invalid.get('whitelist')
    assert.deepEqual(report?.invalidLines.map(l => [l.line, l.reason]), [[2, NOT_UTF8]])

    await state.replica.merge('whitelist', [remote('z.example')], { synced: true })
    assert.equal(await state.folder.write('whitelist'), true)
    assert.deepEqual(await readFile(join(dir, 'whitelist.txt')), Buffer.concat([bytes, Buffer.from('z.example\n')]))
    // Read back from the store (the file view), the line is still the same bytes.
    assert.equal(await state.folder.write('whitelist'), false)
  })

  test('reports at most the first invalid lines, each cut short, and their count', async (t) => {
    const { dir, state } = await node(t)
    const long = 'x'.repeat(1_000_000) + '..bad'
    const lines = [long, ...Array.from({ length: 500 }, (_, i) => `bad..${i}`)]
    await writeFile(join(dir, 'blacklist.txt'), lines.join('\n') + '\n')
    await state.folder.scan()
    const report = state.folder.invalid.get('blacklist')
    assert.equal(report?.invalidCount, 501)
    assert.equal(report?.invalidLines.length, REPORTED_INVALID_LINES)
    assert.equal(report?.invalidLines[0].text, 'x'.repeat(REPORTED_LINE_CHARS) + '…')
    assert.ok(JSON.stringify(report).length < 20_000)
  })

  test('leaves a file larger than maxSettingsFileBytes alone and names the error', async (t) => {
    const { dir, state } = await node(t, 4096)
    await writeFile(join(dir, 'whitelist.txt'), 'a.example\n'.repeat(1000))
    const { changed, failed } = await state.folder.scan()
    assert.equal(changed.size, 0)
    assert.equal(failed.length, 1)
    assert.match(state.folder.problem('whitelist') ?? '', /^SettingsFileTooLargeError: .* 10000 bytes, more than maxSettingsFileBytes \(4096\)/)
    await assert.rejects(state.folder.write('whitelist'), /SettingsFileTooLargeError|maxSettingsFileBytes/)
    assert.equal((await readFile(join(dir, 'whitelist.txt'))).length, 10000)
  })

  test('scans lines written to the replaced file by a program that opened it before the write', async (t) => {
    const { dir, state } = await node(t)
    await writeFile(join(dir, 'whitelist.txt'), 'a.example\nx.example\n')
    await state.folder.scan()
    const held = await open(join(dir, 'whitelist.txt'), 'a')
    t.after(() => held.close())
    await state.replica.merge('whitelist', [remote('z.example'), gone('x.example')], { synced: true })
    assert.equal(await state.folder.write('whitelist'), true)
    // Lands in the old file, which the rename took out of the folder.
    await held.write('late.example\n')
    const { changed } = await state.folder.scan()
    assert.deepEqual(changed.get('whitelist')?.map(e => e.key), ['late.example'])
    await state.folder.write('whitelist')
    assert.equal(await readFile(join(dir, 'whitelist.txt'), 'utf8'), 'a.example\nz.example\nlate.example\n')
  })

  test('scans a line written late to a replaced file after further writes replaced its successors', async (t) => {
    const { dir, state } = await node(t)
    await writeFile(join(dir, 'whitelist.txt'), 'a.example\nx.example\nw.example\n')
    await state.folder.scan()
    // A `>>` that opened the file, then was not scheduled while the agent wrote twice more.
    const held = await open(join(dir, 'whitelist.txt'), 'a')
    t.after(() => held.close())
    for (const [key, removed] of [['y.example', 'x.example'], ['z.example', 'w.example']]) {
      await state.replica.merge('whitelist', [remote(key), gone(removed)], { synced: true })
      assert.equal(await state.folder.write('whitelist'), true)
    }
    await held.write('late.example\n')
    const { changed } = await state.folder.scan()
    assert.deepEqual(changed.get('whitelist')?.map(e => e.key), ['late.example'])
    await state.folder.write('whitelist')
    assert.equal(await readFile(join(dir, 'whitelist.txt'), 'utf8'), 'a.example\ny.example\nz.example\nlate.example\n')
  })

  test('writes a line that reached a replaced file while a write was under way into the file it writes', async (t) => {
    const { dir, state } = await node(t)
    await writeFile(join(dir, 'whitelist.txt'), 'a.example\nx.example\nw.example\n')
    await state.folder.scan()
    const held = await open(join(dir, 'whitelist.txt'), 'a')
    t.after(() => held.close())
    await state.replica.merge('whitelist', [remote('y.example'), gone('x.example')], { synced: true })
    await state.folder.write('whitelist')
    // The late line lands after the write's first look at the replaced files, before its rename.
    const replica = state.replica
    const unwrittenChanges = replica.unwrittenChanges.bind(replica)
    replica.unwrittenChanges = (dataset) => {
      replica.unwrittenChanges = unwrittenChanges
      writeSync(held.fd, 'late.example\n')
      return unwrittenChanges(dataset)
    }
    await state.replica.merge('whitelist', [remote('z.example'), gone('w.example')], { synced: true })
    assert.equal(await state.folder.write('whitelist'), true)
    const lines = (await readFile(join(dir, 'whitelist.txt'), 'utf8')).split('\n').filter(l => l !== '')
    assert.deepEqual(lines.sort(), ['a.example', 'late.example', 'y.example', 'z.example'])
  })

  test('keeps a line that reached the replaced file during the rename when the next round finds the file changed again', async (t) => {
    const { dir, state } = await node(t)
    const path = join(dir, 'whitelist.txt')
    await writeFile(path, 'a.example\nx.example\n')
    await state.folder.scan()
    const held = await open(path, 'a')
    t.after(() => held.close())
    // The late line lands in the old file between the write's last check and its rename (both
    // synchronous: the rename is wrapped), and the next line in the new file before the next round's rename.
    const rename = fs.renameSync
    fs.renameSync = (from, to) => {
      fs.renameSync = rename
      syncBuiltinESMExports()
      writeSync(held.fd, 'late.example\n')
      rename(from, to)
    }
    syncBuiltinESMExports()
    t.after(() => { fs.renameSync = rename; syncBuiltinESMExports() })
    const replica = state.replica
    const unwrittenChanges = replica.unwrittenChanges.bind(replica)
    let rounds = 0
    replica.unwrittenChanges = (dataset) => {
      if (++rounds === 2) fs.appendFileSync(path, 'next.example\n')
      return unwrittenChanges(dataset)
    }
    await state.replica.merge('whitelist', [remote('z.example'), gone('x.example')], { synced: true })
    assert.equal(await state.folder.write('whitelist'), true)
    const lines = (await readFile(path, 'utf8')).split('\n').filter(l => l !== '')
    assert.deepEqual(lines.sort(), ['a.example', 'late.example', 'next.example', 'z.example'])
    assert.equal([...state.replica.entries('whitelist')].find(e => e.key === 'late.example')?.present, true)
  })

  for (const [how, removed] of [['append', []], ['rewrite', [gone('x.example')]]] as const) {
    test(`scans an operator's in-place edit of the same size made right after the agent's own write (${how})`, async (t) => {
      const { dir, state } = await node(t)
      await writeFile(join(dir, 'whitelist.txt'), 'a.example\nx.example\n')
      await state.folder.scan()
      await state.replica.merge('whitelist', [remote('b.example'), ...removed], { synced: true })
      assert.equal(await state.folder.write('whitelist'), true)
      const fh = await open(join(dir, 'whitelist.txt'), 'r+')
      await fh.write('c', 0)
      await fh.close()
      const { changed } = await state.folder.scan()
      assert.deepEqual(changed.get('whitelist')?.map(e => `${e.key} ${e.present}`).sort(), ['a.example false', 'c.example true'])
    })
  }

  test('finds edits of a large file anywhere: a line changed in place in its middle, a line cut from its end', async (t) => {
    const { dir, state } = await node(t)
    const lines = Array.from({ length: 5000 }, (_, i) => `line-${String(i).padStart(4, '0')}.example`)
    await writeFile(join(dir, 'blacklist.txt'), lines.join('\n') + '\n')
    await state.folder.scan()
    // The same size, in place (same inode): only the bytes tell.
    const fh = await open(join(dir, 'blacklist.txt'), 'r+')
    await fh.write('edit', lines.slice(0, 2500).join('\n').length + 1)
    await fh.close()
    const { changed } = await state.folder.scan()
    assert.deepEqual(changed.get('blacklist')?.map(e => `${e.key} ${e.present}`).sort(), ['edit-2500.example true', 'line-2500.example false'])
    await writeFile(join(dir, 'blacklist.txt'), lines.slice(0, 4999).join('\n').replace('line-2500', 'edit-2500') + '\n')
    const cut = await state.folder.scan()
    assert.deepEqual(cut.changed.get('blacklist')?.map(e => `${e.key} ${e.present}`), ['line-4999.example false'])
  })

  test('a write right after its own write keeps a line the operator appended in between', async (t) => {
    const { dir, state } = await node(t)
    await writeFile(join(dir, 'whitelist.txt'), 'a.example\n')
    await state.folder.scan()
    await state.replica.merge('whitelist', [remote('b.example')], { synced: true })
    await state.folder.write('whitelist')
    await appendFile(join(dir, 'whitelist.txt'), 'op.example\n')
    await state.replica.merge('whitelist', [remote('d.example')], { synced: true })
    await state.folder.write('whitelist')
    assert.equal(await readFile(join(dir, 'whitelist.txt'), 'utf8'), 'a.example\nb.example\nop.example\nd.example\n')
  })

  test('an initial sync into a file of comments only appends the entries sorted, and scans an edit of it as that edit only', async (t) => {
    const { dir, state } = await node(t)
    await writeFile(join(dir, 'blacklist.txt'), '# ours\r\n\r\n')
    await state.folder.scan()
    // Written as the parse of the file, not parsed again: the next scan must still see one edited line.
    await state.replica.merge('blacklist', ['c.example', 'a.example', 'b.example'].map(k => remote(k, k === 'b.example' ? 'x #why' : '')), { synced: true })
    assert.equal(await state.folder.write('blacklist'), true)
    assert.equal(await readFile(join(dir, 'blacklist.txt'), 'utf8'), '# ours\r\n\r\na.example\r\nb.example x #why\r\nc.example\r\n')
    assert.equal(await state.replica.fileValue('blacklist', 'b.example'), 'x #why')
    await writeFile(join(dir, 'blacklist.txt'), '# ours\r\n\r\na.example\r\nb.example y\r\nc.example\r\n')
    const { changed } = await state.folder.scan()
    assert.deepEqual(changed.get('blacklist')?.map(e => `${e.key} ${e.value}`), ['b.example y'])
  })
})
