/**
 * One archive enters a node three ways: `spamsync import`, the master merging it as an upload,
 * and a slave applying it as the master's version. All three run applyArchive and the same
 * settings writer, so they leave the same state: the same list entries, the same Bayes DB
 * (bayes.maxTokens honoured) and the same settings files.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLocalState, type LocalState } from '../../../src/local-state.js'
import { defaultConfig } from '../../../src/config.js'
import { SyncEngine, type RoleView, type SyncNetwork } from '../../../src/sync/engine.js'
import { BayesFile } from '../../../src/settings/bayes-file.js'
import { buildSettingsArchive } from '../../../src/sync/settings-archive.js'
import { tokenEntries, tokensOf } from '../../../src/crdt/bayes-counters.js'
import { runCli } from '../../../src/cli/main.js'
import { LIST_DATASETS } from '../../../src/constants.js'
import { Status } from '../../../src/pb/spamsync.js'
import type { Entry } from '../../../src/crdt/lww-set.js'

const TERM = 1
const MAX_TOKENS = 2
const SOURCE = 'source-node'

const stamp = (counter: number): Entry['stamp'] => ({ wallMs: 1_700_000_000_000, counter, nodeId: SOURCE })

/** A full archive of another node: lists with a tombstone, and a Bayes contribution of three tokens. */
function theArchive (): Uint8Array {
  const lists = new Map([
    ['whitelist' as const, [{ key: 'friend@example.com', value: 'a note', present: true, stamp: stamp(1) }, { key: 'gone@example.com', value: '', present: false, stamp: stamp(2) }]],
    ['blacklist' as const, [{ key: 'spam.example', value: '', present: true, stamp: stamp(3) }]]
  ])
  const tokens = tokensOf([
    ['aaaaaaaaaa', { spam: 3, ham: 0, atime: 1_700_000_100 }],
    ['bbbbbbbbbb', { spam: 1, ham: 1, atime: 1_700_000_200 }],
    ['cccccccccc', { spam: 0, ham: 2, atime: 1_700_000_300 }]
  ])
  const contribs = [{ nodeId: SOURCE, db: { numSpam: 3, numHam: 2, tokens, seen: new Map() } }]
  return buildSettingsArchive({ kind: 'full', origin: SOURCE, base: null, version: { term: TERM, seq: 1 } }, lists, contribs)
}

const noNetwork: SyncNetwork = {
  upload: async () => { throw new Error('no upload in this test') },
  fetch: async () => { throw new Error('no fetch in this test') },
  holders: () => [],
  awaited: () => false,
  announce: () => {}
}

/** A node's folders in `root` (the test removes `root`). */
async function folders (root: string, name: string): Promise<{ dataDir: string, settingsDir: string }> {
  const dataDir = join(root, name, 'data')
  const settingsDir = join(root, name, 'settings')
  await mkdir(dataDir, { recursive: true })
  await mkdir(settingsDir, { recursive: true })
  return { dataDir, settingsDir }
}

/** An engine on a node's folders, as the agent starts it. */
async function engineOn (t: TestContext, dirs: { dataDir: string, settingsDir: string }, role: RoleView['role'], network: SyncNetwork): Promise<{ state: LocalState, engine: SyncEngine }> {
  const state = await openLocalState({ ...dirs, maxSkewMs: defaultConfig().maxSkewMs })
  t.after(async () => { await state.close() })
  const roles = { role, masterId: role === 'master' ? state.identity.nodeId : 'the-master', term: TERM }
  const file = new BayesFile(dirs.settingsDir, { exportCommand: '', importCommand: '', commandTimeoutMs: 10_000 })
  const engine = new SyncEngine({
    nodeId: state.identity.nodeId, store: state.store, replica: state.replica, folder: state.folder, roles, network,
    strictVersion: false, historyVersions: 10, fanOut: false, bayes: { replica: state.bayes, file, maxTokens: MAX_TOKENS }
  })
  await engine.load()
  await engine.localChanged()
  await engine.bayesChanged()
  return { state, engine }
}

/** What must agree: every list entry (not the local bookkeeping), the Bayes DB and every settings file. */
async function stateOf (state: LocalState, settingsDir: string): Promise<Record<string, unknown>> {
  const lists: Record<string, unknown> = {}
  for (const ds of LIST_DATASETS) {
    lists[ds] = [...state.replica.entries(ds)].map(e => ({ key: e.key, value: e.value, present: e.present, stamp: e.stamp })).sort((a, b) => a.key.localeCompare(b.key))
  }
  const merged = await state.bayes.merged()
  const files: Record<string, string> = {}
  for (const name of [...LIST_DATASETS.map(ds => `${ds}.txt`), 'bayes.txt']) files[name] = await readFile(join(settingsDir, name), 'utf8').catch(() => '(none)')
  return { lists, bayes: { numSpam: merged.numSpam, numHam: merged.numHam, tokens: tokenEntries(merged.tokens) }, files }
}

describe('import, merge and apply of one archive', () => {
  test('leave the same entries, Bayes DB and files, bayes.maxTokens honoured', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'spamsync-archive-apply-'))
    t.after(async () => { await rm(root, { recursive: true, force: true }) })
    const zip = theArchive()
    const zipPath = join(root, 'settings.zip')
    await writeFile(zipPath, zip)

    const imported = await folders(root, 'import')
    const out: string[] = []
    const exit = await runCli(['import', zipPath, '--data-dir', imported.dataDir, '--settings-dir', imported.settingsDir, '--bayes-max-tokens', String(MAX_TOKENS)], { stdout: (s) => { out.push(s) }, stderr: (s) => { out.push(s) } })
    assert.equal(exit, 0, out.join(''))
    const importState = await openLocalState({ ...imported, maxSkewMs: defaultConfig().maxSkewMs })
    t.after(async () => { await importState.close() })

    const mergedDirs = await folders(root, 'merge')
    const master = await engineOn(t, mergedDirs, 'master', noNetwork)
    await master.engine.becameMaster()
    await master.engine.mergeUpload(SOURCE, zip, 'full')

    const appliedDirs = await folders(root, 'apply')
    const slaveNetwork: SyncNetwork = {
      ...noNetwork,
      fetch: async () => ({ status: Status.OK, reason: '', version: { term: TERM, seq: 1 }, full: true, sources: [], zip })
    }
    const slave = await engineOn(t, appliedDirs, 'slave', slaveNetwork)
    slave.engine.masterAnnounced({ term: TERM, seq: 1 })
    await slave.engine.syncDownload()
    assert.deepEqual(slave.engine.appliedVersion, { term: TERM, seq: 1 })

    const expected = await stateOf(importState, imported.settingsDir)
    assert.equal((expected.bayes as any).tokens.length, MAX_TOKENS + 1, 'the DB holds every token')
    assert.equal((expected.files as any)['bayes.txt'].split('\n').filter((l: string) => l.startsWith('t\t')).length, MAX_TOKENS, 'bayes.txt keeps the newest maxTokens')
    assert.deepEqual(await stateOf(master.state, mergedDirs.settingsDir), expected, 'merge leaves what import leaves')
    assert.deepEqual(await stateOf(slave.state, appliedDirs.settingsDir), expected, 'apply leaves what import leaves')
  })
})
