/**
 * A node dies after each LevelDB write of a sync, for every such write: the master merging an
 * upload, and a slave applying an archive. Its store stops at that write (the write and
 * everything the process would have done after it never happen), the node is opened again from
 * its folders and starts as the agent does, and the sync is retried. Checks, for each crash point:
 * - the store holds exactly the steps protocol/sync-v1.md ("Crash consistency: the order of the
 *   writes") lists before that point, each whole, in that order;
 * - after the restart and the retried sync, the master and the slave hold exactly what they
 *   hold when nothing crashed: every list entry, every Bayes count, every settings file.
 * Engines run in this process on a direct network (no libp2p), so every crash point is exact.
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
import { parseSaBackup } from '../../../src/settings/sa-backup.js'
import { tokenEntries } from '../../../src/crdt/bayes-counters.js'
import { Status } from '../../../src/pb/spamsync.js'
import type { StoreBatch } from '../../../src/store/state-store.js'
import type { Version } from '../../../src/version.js'

/** One node: its open state and engine, and a store that can stop at a chosen write. */
interface Node {
  dir: string
  state: LocalState
  engine: SyncEngine
  roles: { role: RoleView['role'], masterId: string | null, term: number }
  /** Store writes so far. */
  writes: number
  /** Writes allowed before the process "dies" (Infinity: no crash). */
  crashAfter: number
  /** Resolves when the store stopped at its crash point. */
  crashed: Promise<void>
}

/** The "process died" error the slave's upload meets. */
class MasterCrashed extends Error {}

const TERM = 1

async function openNode (dir: string, network: SyncNetwork, role: RoleView['role'], masterId: string | null): Promise<Node> {
  const settingsDir = join(dir, 'settings')
  await mkdir(settingsDir, { recursive: true })
  const state = await openLocalState({ dataDir: join(dir, 'data'), settingsDir, maxSkewMs: defaultConfig().maxSkewMs })
  const roles = { role, masterId: masterId ?? (role === 'master' ? state.identity.nodeId : null), term: TERM }
  const file = new BayesFile(settingsDir, { exportCommand: '', importCommand: '', commandTimeoutMs: 10_000 })
  const engine = new SyncEngine({
    nodeId: state.identity.nodeId, store: state.store, replica: state.replica, folder: state.folder, roles, network,
    strictVersion: false, historyVersions: 10, fanOut: false, bayes: { replica: state.bayes, file, maxTokens: 0 }
  })
  let signal = (): void => {}
  const node: Node = { dir, state, engine, roles, writes: 0, crashAfter: Infinity, crashed: new Promise<void>(resolve => { signal = resolve }) }
  const write = state.store.write.bind(state.store)
  state.store.write = async (batch: StoreBatch): Promise<void> => {
    if (node.writes >= node.crashAfter) {
      // The process is gone: this write and everything after it never happen.
      signal()
      return await new Promise<never>(() => {})
    }
    node.writes++
    await write(batch)
  }
  // As the agent starts: load, take what changed while down, redo cut-short writes.
  await engine.load()
  await engine.localChanged()
  await engine.bayesChanged()
  await engine.restoreFiles()
  if (role === 'master') await engine.becameMaster()
  return node
}

/** A master and a slave on a direct network; `master` is swapped for the restarted one. */
class Pair {
  master!: Node
  slave!: Node

  readonly slaveNetwork: SyncNetwork = {
    upload: async (_masterId, req, zip) => {
      const m = this.master
      if (req.kind === 'delta' && m.engine.needsFull(this.slave.state.identity.nodeId, req.baseTerm)) return { status: Status.NEED_FULL, reason: 'send full' }
      const died = m.crashed.then(() => { throw new MasterCrashed('the master died') })
      const version = await Promise.race([m.engine.mergeUpload(this.slave.state.identity.nodeId, zip, req.kind), died])
      return { status: Status.OK, reason: '', version }
    },
    fetch: async (_peer, since, _want, archive) => {
      const served = await this.master.engine.serveFetch(since, { nodeId: this.slave.state.identity.nodeId, fanOut: false, archive })
      served.release?.()
      return { status: served.status, reason: served.reason ?? '', version: served.version, full: served.kind === 'full', sources: [], zip: served.zip }
    },
    holders: () => [],
    awaited: () => false,
    announce: () => {}
  }

  readonly masterNetwork: SyncNetwork = {
    upload: async () => { throw new Error('the master does not upload') },
    fetch: async () => { throw new Error('the master does not fetch') },
    holders: () => [],
    awaited: () => false,
    announce: () => {}
  }

  constructor (readonly root: string) {}

  async startMaster (): Promise<void> {
    this.master = await openNode(join(this.root, 'master'), this.masterNetwork, 'master', null)
  }

  /** The slave scans its folder (no upload while it scans), then uploads once and fetches. */
  async slaveSyncs (): Promise<void> {
    this.slave.roles.role = 'candidate'
    await this.slave.engine.localChanged()
    await this.slave.engine.bayesChanged()
    // The scans asked for uploads, which a candidate skips: let those end before it uploads.
    await this.slave.engine.drain()
    this.slave.roles.role = 'slave'
    this.slave.roles.masterId = this.master.state.identity.nodeId
    await this.slave.engine.syncUpload()
  }

  async close (): Promise<void> {
    for (const n of [this.master, this.slave]) await n?.state.close().catch(() => {})
  }
}

const BACKUP_HEAD = 'v\t3\tdb_version # this must be the first line!!!\n'
const backup = (numSpam: number, tokens: Array<[number, string]>): string =>
  BACKUP_HEAD + `v\t${numSpam}\tnum_spam\nv\t0\tnum_nonspam\n` + tokens.map(([n, tok]) => `t\t${n}\t0\t1700000000\t${tok}\n`).join('')

/** A list file's entries, sorted, and a Bayes file's counts: what must agree, whatever the line order. */
async function contentOf (dir: string): Promise<Record<string, unknown>> {
  const read = async (name: string): Promise<string> => await readFile(join(dir, 'settings', name), 'utf8').catch(() => '')
  const lines = (text: string): string[] => text.split('\n').filter(l => l.trim() !== '' && !l.startsWith('#')).sort()
  const bayes = parseSaBackup(await read('bayes.txt'), 'bayes.txt').db
  return {
    whitelist: lines(await read('whitelist.txt')),
    blacklist: lines(await read('blacklist.txt')),
    bayes: { numSpam: bayes.numSpam, numHam: bayes.numHam, tokens: tokenEntries(bayes.tokens) }
  }
}

/**
 * The cluster before the upload under test: the master learned a token, the slave holds lists
 * and learned another, both applied the same version. Then the slave edits (whitelist: one
 * added; blacklist: one deleted, two added; Bayes: one token grows, one is new).
 */
async function setUp (t: TestContext): Promise<Pair> {
  const root = await mkdtemp(join(tmpdir(), 'spamsync-merge-crash-'))
  const pair = new Pair(root)
  t.after(async () => {
    await pair.close()
    await rm(root, { recursive: true, force: true })
  })
  await mkdir(join(root, 'master', 'settings'), { recursive: true })
  await writeFile(join(root, 'master', 'settings', 'bayes.txt'), backup(5, [[5, '00000000a0']]))
  await pair.startMaster()
  await mkdir(join(root, 'slave', 'settings'), { recursive: true })
  await writeFile(join(root, 'slave', 'settings', 'whitelist.txt'), 'friend@example.com\n')
  await writeFile(join(root, 'slave', 'settings', 'blacklist.txt'), 'a.example\nb.example\nc.example\n')
  await writeFile(join(root, 'slave', 'settings', 'bayes.txt'), backup(10, [[10, '00000000b0']]))
  pair.slave = await openNode(join(root, 'slave'), pair.slaveNetwork, 'candidate', null)
  await pair.slaveSyncs()
  await pair.slave.engine.syncDownload()
  const applied = await readFile(join(root, 'slave', 'settings', 'bayes.txt'), 'utf8')
  await writeFile(join(root, 'slave', 'settings', 'whitelist.txt'), 'friend@example.com\nfriend2@example.com\n')
  await writeFile(join(root, 'slave', 'settings', 'blacklist.txt'), 'a.example\nc.example\nd.example\ne.example\n')
  // The slave learns on top of the DB it applied: token b0 from 10 to 12 (2 messages), a new token c0.
  const learned = applied.replace('t\t10\t0\t1700000000\t00000000b0', 't\t12\t0\t1700000000\t00000000b0')
    .replace(/v\t(\d+)\tnum_spam/, (_m, n) => `v\t${Number(n) + 2}\tnum_spam`) + 't\t2\t0\t1700000000\t00000000c0\n'
  await writeFile(join(root, 'slave', 'settings', 'bayes.txt'), learned)
  return pair
}

/** The steps of a merge, in the order sync-v1.md states, each as it shows in the reopened store. */
const STEPS: Array<{ name: string, done: (s: LocalState, before: Version) => Promise<boolean> }> = [
  { name: 'whitelist entries', done: async (s) => s.replica.get('whitelist', 'friend2@example.com')?.present === true },
  { name: 'blacklist entries', done: async (s) => s.replica.get('blacklist', 'd.example')?.present === true && s.replica.get('blacklist', 'b.example')?.present === false },
  { name: 'Bayes contribution', done: async (s) => (await s.bayes.merged()).numSpam === 17 },
  { name: 'version record', done: async (s, before) => (await s.store.getMeta<Version>('centralVersion'))?.seq === before.seq + 1 },
  { name: 'version snapshot', done: async (s, before) => (await s.store.getVersion(TERM, before.seq + 1))?.sizes !== undefined },
  // The whitelist gains a line only: its file is appended to, after its write-ahead record (cleared with the view).
  { name: 'whitelist append record', done: async (s) => (await s.store.getMeta('fileAppend.whitelist')) != null || (await s.replica.fileView('whitelist')).text.includes('friend2@example.com') },
  { name: 'whitelist file view', done: async (s) => (await s.replica.fileView('whitelist')).text.includes('friend2@example.com') },
  { name: 'blacklist file view', done: async (s) => (await s.replica.fileView('blacklist')).text.includes('d.example') },
  { name: 'Bayes pending baseline', done: async (s) => (await s.bayes.merged()).numSpam === 17 && [await s.store.getMeta<any>('bayesPendingBaseline'), await s.store.getMeta<any>('bayesMergedBaseline')].some(m => m?.bseq === s.bayes.changeSeq) },
  { name: 'Bayes baseline', done: async (s) => (await s.bayes.merged()).numSpam === 17 && (await s.store.getMeta<any>('bayesMergedBaseline'))?.bseq === s.bayes.changeSeq && !s.bayes.writeDue }
]

describe('the master dies after each write of merging an upload', () => {
  test('every crash point holds the documented steps before it, and a retried upload converges exactly', async (t) => {
    // Without a crash: what every node must hold at the end, and how many writes the merge takes.
    const reference = await setUp(t)
    const writesBefore = reference.master.writes
    await reference.slaveSyncs()
    const writes = reference.master.writes - writesBefore
    await reference.slave.engine.syncDownload()
    const expected = { master: await contentOf(reference.master.dir), slave: await contentOf(reference.slave.dir) }
    assert.deepEqual(expected.master, expected.slave)
    assert.equal((expected.master.bayes as any).numSpam, 17, 'master learned 5, the slave 10 + 2')
    assert.equal(writes, STEPS.length, `the merge takes ${writes} writes; sync-v1.md lists ${STEPS.length} steps`)

    for (let k = 0; k < writes; k++) {
      await t.test(`crash after write ${k} of ${writes}`, async (t) => {
        const pair = await setUp(t)
        const before = pair.master.engine.version
        pair.master.crashAfter = pair.master.writes + k
        await pair.slaveSyncs()
        await pair.master.crashed
        assert.ok(pair.slave.engine.errors.some(e => e.message.includes('the master died')), 'the upload was cut off by the crash')

        // The dead process's store: exactly the first k steps, each whole.
        await pair.master.state.close()
        const dead = await openLocalState({ dataDir: join(pair.master.dir, 'data'), settingsDir: join(pair.master.dir, 'settings'), maxSkewMs: defaultConfig().maxSkewMs })
        const seen: string[] = []
        for (const step of STEPS) if (await step.done(dead, before)) seen.push(step.name)
        await dead.close()
        assert.deepEqual(seen, STEPS.slice(0, k).map(s => s.name))

        // Restart as master; the slave retries its upload, then fetches.
        await pair.startMaster()
        await pair.slave.engine.syncUpload()
        await pair.slave.engine.syncDownload()
        assert.deepEqual(pair.slave.engine.appliedVersion, pair.master.engine.version, 'the slave applied the master\'s newest version')
        assert.deepEqual(await contentOf(pair.master.dir), expected.master, 'the master holds exactly what it holds without a crash')
        assert.deepEqual(await contentOf(pair.slave.dir), expected.slave, 'the slave holds exactly what it holds without a crash')
      })
    }
  })
})

/** The steps of a slave's apply, in the order sync-v1.md states, each as it shows in the reopened store. */
const APPLY_STEPS: Array<{ name: string, done: (s: LocalState, before: Version) => Promise<boolean> }> = [
  { name: 'whitelist entries', done: async (s) => s.replica.get('whitelist', 'boss@example.com')?.present === true },
  { name: 'whitelist append record', done: async (s) => (await s.store.getMeta('fileAppend.whitelist')) != null || (await s.replica.fileView('whitelist')).text.includes('boss@example.com') },
  { name: 'whitelist file view', done: async (s) => (await s.replica.fileView('whitelist')).text.includes('boss@example.com') },
  { name: 'blacklist entries', done: async (s) => s.replica.get('blacklist', 'f.example')?.present === true && s.replica.get('blacklist', 'a.example')?.present === false },
  { name: 'blacklist file view', done: async (s) => (await s.replica.fileView('blacklist')).text.includes('f.example') },
  { name: 'Bayes contributions', done: async (s) => (await s.bayes.merged()).numSpam === 18 },
  { name: 'Bayes pending baseline', done: async (s) => (await s.bayes.merged()).numSpam === 18 && [await s.store.getMeta<any>('bayesPendingBaseline'), await s.store.getMeta<any>('bayesMergedBaseline')].some(m => m?.bseq === s.bayes.changeSeq) },
  { name: 'Bayes baseline', done: async (s) => (await s.bayes.merged()).numSpam === 18 && (await s.store.getMeta<any>('bayesMergedBaseline'))?.bseq === s.bayes.changeSeq && !s.bayes.writeDue },
  { name: 'applied version', done: async (s, before) => ((await s.store.getMeta<Version>('appliedVersion'))?.seq ?? 0) > before.seq },
  { name: 'history records', done: async (s, before) => (await appliedRecord(s, before)) !== undefined },
  { name: 'version snapshot', done: async (s, before) => (await appliedRecord(s, before))?.sizes !== undefined }
]

/** The history record the slave keeps of the version it applied after `before`, if any. */
async function appliedRecord (s: LocalState, before: Version): Promise<{ sizes?: unknown } | undefined> {
  const applied = await s.store.getMeta<Version>('appliedVersion')
  if (applied === undefined || applied.seq <= before.seq) return undefined
  return await s.store.getVersion(applied.term, applied.seq)
}

/** The master edits its lists and learns (token a0 5 -> 6, a new token d0): new versions for the slave. */
async function masterChanges (pair: Pair): Promise<void> {
  const dir = join(pair.master.dir, 'settings')
  await writeFile(join(dir, 'whitelist.txt'), 'boss@example.com\n' + await readFile(join(dir, 'whitelist.txt'), 'utf8'))
  await writeFile(join(dir, 'blacklist.txt'), (await readFile(join(dir, 'blacklist.txt'), 'utf8')).replace('a.example\n', '') + 'f.example\n')
  const bayes = await readFile(join(dir, 'bayes.txt'), 'utf8')
  await writeFile(join(dir, 'bayes.txt'), bayes.replace('t\t5\t0\t1700000000\t00000000a0', 't\t6\t0\t1700000000\t00000000a0')
    .replace(/v\t(\d+)\tnum_spam/, (_m, n) => `v\t${Number(n) + 1}\tnum_spam`) + 't\t1\t0\t1700000000\t00000000d0\n')
  await pair.master.engine.localChanged()
  await pair.master.engine.bayesChanged()
}

describe('a slave dies after each write of applying an archive', () => {
  test('every crash point holds the documented steps before it, and a restart converges exactly', async (t) => {
    const reference = await setUp(t)
    await reference.slaveSyncs()
    await reference.slave.engine.syncDownload()
    await masterChanges(reference)
    const writesBefore = reference.slave.writes
    await reference.slave.engine.syncDownload()
    const writes = reference.slave.writes - writesBefore
    const expected = { master: await contentOf(reference.master.dir), slave: await contentOf(reference.slave.dir) }
    assert.deepEqual(expected.master, expected.slave)
    assert.equal((expected.master.bayes as any).numSpam, 18, 'master learned 5 + 1, the slave 10 + 2')
    assert.equal(writes, APPLY_STEPS.length, `the apply takes ${writes} writes; sync-v1.md lists ${APPLY_STEPS.length} steps`)

    for (let k = 0; k < writes; k++) {
      await t.test(`crash after write ${k} of ${writes}`, async (t) => {
        const pair = await setUp(t)
        await pair.slaveSyncs()
        await pair.slave.engine.syncDownload()
        const before = pair.slave.engine.appliedVersion
        await masterChanges(pair)
        pair.slave.crashAfter = pair.slave.writes + k
        // The fetch never ends once the store stopped: the process is gone.
        void pair.slave.engine.syncDownload()
        await pair.slave.crashed

        await pair.slave.state.close()
        const dead = await openLocalState({ dataDir: join(pair.slave.dir, 'data'), settingsDir: join(pair.slave.dir, 'settings'), maxSkewMs: defaultConfig().maxSkewMs })
        const seen: string[] = []
        for (const step of APPLY_STEPS) if (await step.done(dead, before)) seen.push(step.name)
        await dead.close()
        assert.deepEqual(seen, APPLY_STEPS.slice(0, k).map(s => s.name))

        // Restart: as the agent starts, then it follows the master (uploads what it has) and fetches.
        pair.slave = await openNode(pair.slave.dir, pair.slaveNetwork, 'candidate', null)
        await pair.slaveSyncs()
        await pair.slave.engine.syncDownload()
        assert.deepEqual(pair.slave.engine.appliedVersion, pair.master.engine.version, 'the slave applied the master\'s newest version')
        assert.deepEqual(await contentOf(pair.master.dir), expected.master, 'the master holds exactly what it holds without a crash')
        assert.deepEqual(await contentOf(pair.slave.dir), expected.slave, 'the slave holds exactly what it holds without a crash')
      })
    }
  })
})
