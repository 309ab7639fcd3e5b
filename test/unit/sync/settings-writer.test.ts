import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLocalState, type LocalState } from '../../../src/local-state.js'
import { defaultConfig } from '../../../src/config.js'
import { BayesFile } from '../../../src/settings/bayes-file.js'
import { SettingsWriter } from '../../../src/sync/settings-writer.js'
import { tokensOf } from '../../../src/crdt/bayes-counters.js'

interface Setup {
  state: LocalState
  writer: SettingsWriter
  settingsDir: string
  reported: string[]
  editsFound: { n: number }
}

/** A node's state in a temp dir and a writer on it, closed and removed when the test ends. */
async function setup (t: TestContext, maxTokens = 0): Promise<Setup> {
  const root = await mkdtemp(join(tmpdir(), 'spamsync-settings-writer-'))
  const settingsDir = join(root, 'settings')
  const state = await openLocalState({ dataDir: join(root, 'data'), settingsDir, maxSkewMs: defaultConfig().maxSkewMs })
  t.after(async () => {
    await state.close()
    await rm(root, { recursive: true, force: true })
  })
  const reported: string[] = []
  const editsFound = { n: 0 }
  const writer = new SettingsWriter({
    folder: state.folder,
    bayes: { replica: state.bayes, file: new BayesFile(settingsDir, { exportCommand: '', importCommand: '', commandTimeoutMs: 10_000 }), maxTokens },
    report: (what) => { reported.push(what) },
    editsFoundByWrite: () => { editsFound.n++ }
  })
  return { state, writer, settingsDir, reported, editsFound }
}

const stamp = { wallMs: 1_700_000_000_000, counter: 0, nodeId: 'other' }

/** Another node's contribution of three tokens, seen at different times. */
const contribution = { nodeId: 'other', db: { numSpam: 2, numHam: 1, seen: new Map(), tokens: tokensOf([
  ['aaaaaaaaaa', { spam: 1, ham: 0, atime: 1_700_000_100 }],
  ['bbbbbbbbbb', { spam: 1, ham: 0, atime: 1_700_000_300 }],
  ['cccccccccc', { spam: 0, ham: 1, atime: 1_700_000_200 }]
]) } }

describe('SettingsWriter', () => {
  test('writes a list file from the replica; an unchanged file is not changed again', async (t) => {
    const { state, writer, settingsDir } = await setup(t)
    await state.replica.merge('whitelist', [{ key: 'friend@example.com', value: '', present: true, stamp }], { synced: true })
    assert.deepEqual(await writer.writeLists(['whitelist']), ['whitelist'])
    assert.match(await readFile(join(settingsDir, 'whitelist.txt'), 'utf8'), /friend@example\.com/)
    assert.equal(await writer.writeList('whitelist'), false)
  })

  test('a scan that finds a line written to a replaced file writes it into the list file', async (t) => {
    const { state, writer, settingsDir } = await setup(t)
    const file = join(settingsDir, 'whitelist.txt')
    await writeFile(file, 'a.example\nx.example\n')
    await writer.scanLists()
    // A `>>` that opened the file before the agent's write renamed its own over it (a write that
    // takes a line out: one that only adds lines appends them in place).
    const held = await open(file, 'a')
    t.after(() => held.close())
    const removal = { key: 'x.example', value: '', present: false, stamp: { ...stamp, wallMs: Date.now() + 1000 } }
    await state.replica.merge('whitelist', [{ key: 'z.example', value: '', present: true, stamp }, removal], { synced: true })
    await writer.writeList('whitelist')
    await held.write('late.example\n')
    const { late } = await writer.scanLists()
    assert.deepEqual(late, ['whitelist'])
    assert.equal(await readFile(file, 'utf8'), 'a.example\nz.example\nlate.example\n')
  })

  test('a failed list write is reported and kept due until a write succeeds', async (t) => {
    const { state, writer, settingsDir, reported } = await setup(t)
    await state.replica.merge('blacklist', [{ key: 'spam.example', value: '', present: true, stamp }], { synced: true })
    // A folder where the file should be: no rename can replace it.
    await mkdir(join(settingsDir, 'blacklist.txt', 'in-the-way'), { recursive: true })
    assert.equal(await writer.writeList('blacklist'), false)
    assert.deepEqual(reported, ['write blacklist'])
    assert.equal(writer.listsWritten, false)
    assert.deepEqual(writer.unwrittenLists, ['blacklist'])
    await rm(join(settingsDir, 'blacklist.txt'), { recursive: true })
    assert.deepEqual(await writer.writeLists(writer.unwrittenLists), ['blacklist'])
    assert.equal(writer.listsWritten, true)
  })

  test('bayes.txt keeps the newest maxTokens tokens, and that DB becomes the baseline', async (t) => {
    const { state, writer, settingsDir } = await setup(t, 2)
    await state.bayes.merge([contribution])
    assert.equal(await writer.afterChange(true, false), true)
    const text = await readFile(join(settingsDir, 'bayes.txt'), 'utf8')
    assert.deepEqual(text.split('\n').filter(l => l.startsWith('t\t')).map(l => l.split('\t')[4]).sort(), ['bbbbbbbbbb', 'cccccccccc'])
    assert.equal(writer.bayesTokens, 2)
    assert.equal(writer.bayesState.kind, 'current')
    assert.equal(await writer.scanBayes(), 0, 'the written file is nothing learned here')
  })

  test('a superseded Bayes write is left to the newer change, and bayes.txt is then behind', async (t) => {
    const { state, writer, settingsDir } = await setup(t)
    await state.bayes.merge([contribution])
    assert.equal(await writer.afterChange(true, true), false)
    assert.deepEqual(writer.bayesState, { kind: 'behind', why: 'superseded' })
    await assert.rejects(readFile(join(settingsDir, 'bayes.txt')), { code: 'ENOENT' })
    assert.equal(await writer.afterChange(false, false), true, 'the next change writes it, though its own added nothing')
    assert.equal(writer.bayesState.kind, 'current')
  })

  test('nothing grew and nothing is behind: no Bayes write', async (t) => {
    const { writer, settingsDir } = await setup(t)
    assert.equal(await writer.afterChange(false, false), false)
    await assert.rejects(readFile(join(settingsDir, 'bayes.txt')), { code: 'ENOENT' })
  })

  test('a failed Bayes write is reported and leaves bayes.txt behind', async (t) => {
    const { state, writer, settingsDir, reported } = await setup(t)
    await state.bayes.merge([contribution])
    await mkdir(join(settingsDir, 'bayes.txt', 'in-the-way'), { recursive: true })
    assert.equal(await writer.writeBayes(), false)
    assert.deepEqual(writer.bayesState, { kind: 'behind', why: 'failed' })
    assert.ok(reported.includes('bayes import'), reported.join())
  })
})
