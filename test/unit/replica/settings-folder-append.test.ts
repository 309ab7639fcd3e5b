/**
 * SettingsFolder's appends in place (settings/file-append.ts): a write that only adds lines
 * appends them to the file as it stands, and an append a crash or a failure left unfinished is
 * settled before the file is read again, so its half line is never taken for the operator's.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import fs, { openSync, closeSync } from 'node:fs'
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { syncBuiltinESMExports } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLocalState, type LocalState } from '../../../src/local-state.js'
import { parseListFile } from '../../../src/settings/list-file.js'
import { renderListFile } from '../../../src/settings/list-render.js'
import type { Entry } from '../../../src/crdt/lww-set.js'

const WL = 'whitelist'
const PRIOR = 'a.example\n# a comment\nb.example x\n'

interface Node { root: string, dir: string, path: string, open: () => Promise<LocalState> }

/** A node whose whitelist.txt holds PRIOR, scanned; `open` opens its local state again (closed when the test ends). */
async function node (t: TestContext): Promise<Node & { state: LocalState }> {
  const root = await mkdtemp(join(tmpdir(), 'spamsync-append-folder-'))
  const dir = join(root, 'settings')
  const opened: LocalState[] = []
  const open = async (): Promise<LocalState> => {
    const state = await openLocalState({ dataDir: join(root, 'data'), settingsDir: dir, maxSkewMs: 60_000 })
    opened.push(state)
    return state
  }
  t.after(async () => {
    for (const s of opened) await s.close()
    await rm(root, { recursive: true, force: true })
  })
  const state = await open()
  const path = join(dir, 'whitelist.txt')
  await writeFile(path, PRIOR)
  await state.folder.scan()
  return { root, dir, path, open, state }
}

// An entry as the master would send it: stamped by another node after the scan.
function remote (key: string, present = true): Entry {
  return { key, value: '', present, stamp: { wallMs: Date.now() + 1000, counter: 0, nodeId: 'other' } }
}

async function ino (path: string): Promise<bigint> {
  return (await stat(path, { bigint: true })).ino
}

/** Counts the scans that read the file and found a text to stamp from. */
function countScans (state: LocalState): () => number {
  let n = 0
  const applyScan = state.replica.applyScan.bind(state.replica)
  state.replica.applyScan = async (...args) => { n++; return await applyScan(...args) }
  return () => n
}

describe('SettingsFolder appends', () => {
  test('a write that only adds lines appends them to the same file, as a full render writes them', async (t) => {
    const { path, state } = await node(t)
    const before = await ino(path)
    await state.replica.merge(WL, [remote('d.example'), remote('c.example')], { synced: true })
    assert.equal(await state.folder.write(WL), true)
    assert.equal(await ino(path), before)
    assert.equal(await readFile(path, 'utf8'), renderListFile(parseListFile(PRIOR, 'whitelist.txt'), state.replica.desired(WL)))
    assert.equal(state.replica.appends.pending(WL), undefined)
  })

  test('the scan after the agent\'s own append does not read the file', async (t) => {
    const { state } = await node(t)
    await state.replica.merge(WL, [remote('c.example')], { synced: true })
    await state.folder.write(WL)
    const scans = countScans(state)
    assert.equal((await state.folder.scan()).changed.size, 0)
    assert.equal(scans(), 0)
  })

  test('a removal rewrites the file (another inode)', async (t) => {
    const { path, state } = await node(t)
    const before = await ino(path)
    await state.replica.merge(WL, [remote('a.example', false)], { synced: true })
    await state.folder.write(WL)
    assert.notEqual(await ino(path), before)
    assert.equal(await readFile(path, 'utf8'), '# a comment\nb.example x\n')
  })

  test('keeps a line the operator appended in the instant before the agent\'s append, and scans it', async (t) => {
    const { path, state } = await node(t)
    // The operator's `>>` lands between the agent's last check and its write (both synchronous).
    const writeSync = fs.writeSync
    fs.writeSync = ((...args: Parameters<typeof fs.writeSync>) => {
      fs.writeSync = writeSync
      syncBuiltinESMExports()
      const fd = openSync(path, 'a')
      writeSync(fd, 'op.example\n')
      closeSync(fd)
      return writeSync(...args)
    }) as typeof fs.writeSync
    syncBuiltinESMExports()
    t.after(() => { fs.writeSync = writeSync; syncBuiltinESMExports() })
    await state.replica.merge(WL, [remote('c.example')], { synced: true })
    assert.equal(await state.folder.write(WL), true)
    assert.equal(await readFile(path, 'utf8'), PRIOR + 'op.example\nc.example\n')
    assert.equal(state.replica.get(WL, 'op.example')?.present, true)
    assert.equal(state.folder.editsStampedByWrites, 1)
  })

  test('an append that fails part-way is cut back, and the next write appends it whole', async (t) => {
    const { path, state } = await node(t)
    const writeSync = fs.writeSync
    fs.writeSync = ((fd: number, buffer: Buffer, offset: number) => {
      fs.writeSync = writeSync
      syncBuiltinESMExports()
      writeSync(fd, buffer, offset, 3)
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    }) as unknown as typeof fs.writeSync
    syncBuiltinESMExports()
    t.after(() => { fs.writeSync = writeSync; syncBuiltinESMExports() })
    await state.replica.merge(WL, [remote('c.example')], { synced: true })
    await assert.rejects(state.folder.write(WL), /ENOSPC/)
    assert.equal(await readFile(path, 'utf8'), PRIOR)
    assert.equal((await state.folder.scan()).changed.size, 0)
    assert.equal(await state.folder.write(WL), true)
    assert.equal(await readFile(path, 'utf8'), PRIOR + 'c.example\n')
  })
})

describe('SettingsFolder at a start after an append a crash cut short', () => {
  /**
   * The state a crash leaves: c.example merged, the append's record stored, the file holding
   * PRIOR and then `tail`; then the agent starts again and scans.
   */
  async function crashed (t: TestContext, tail: (line: Buffer) => Buffer): Promise<{ path: string, state: LocalState, stamped: string[] }> {
    const { path, state, open } = await node(t)
    await state.replica.merge(WL, [remote('c.example')], { synced: true })
    const line = Buffer.from('c.example\n')
    await state.replica.appends.begin(WL, { ino: String(await ino(path)), size: PRIOR.length, tail: Buffer.from(PRIOR).toString('base64'), bytes: line.toString('base64') })
    await appendFile(path, tail(line))
    await state.close()
    const started = await open()
    const { changed } = await started.folder.scan()
    return { path, state: started, stamped: (changed.get(WL) ?? []).map(e => e.key) }
  }

  test('interrupted before the append: nothing is stamped, the file is left as it was', async (t) => {
    const { path, state, stamped } = await crashed(t, () => Buffer.alloc(0))
    assert.deepEqual(stamped, [])
    assert.equal(await readFile(path, 'utf8'), PRIOR)
    assert.equal(state.replica.appends.pending(WL), undefined)
  })

  test('interrupted part-way: the half line is cut off, never stamped, and the write appends the line whole', async (t) => {
    const { path, state, stamped } = await crashed(t, line => line.subarray(0, 4))
    assert.deepEqual(stamped, [])
    assert.equal(state.replica.get(WL, 'c.ex'), undefined)
    assert.equal(await readFile(path, 'utf8'), PRIOR)
    assert.equal(await state.folder.write(WL), true)
    assert.equal(await readFile(path, 'utf8'), PRIOR + 'c.example\n')
  })

  test('interrupted after the append, before its file view was stored: cut back and written again', async (t) => {
    const { path, state, stamped } = await crashed(t, line => line)
    assert.deepEqual(stamped, [])
    assert.equal(await state.folder.write(WL), true)
    assert.equal(await readFile(path, 'utf8'), PRIOR + 'c.example\n')
    assert.equal(state.replica.appends.pending(WL), undefined)
  })

  test('an operator\'s line past the append is not lost: the file is scanned as it is', async (t) => {
    const { path, stamped } = await crashed(t, line => Buffer.concat([line, Buffer.from('op.example\n')]))
    assert.deepEqual(stamped, ['op.example'])
    assert.equal(await readFile(path, 'utf8'), PRIOR + 'c.example\nop.example\n')
  })
})
