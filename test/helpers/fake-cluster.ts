/**
 * Sync engines of a small cluster in this process: each node opens its own LevelDB store and
 * settings folder in a temp folder (as the agent does, see local-state.ts) and reaches the
 * others through a {@link FakeSyncNetwork}. The test plays the election: it sets each node's
 * role and term. Everything is closed and removed when the test ends, also on failure.
 */
import type { TestContext } from 'node:test'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLocalState, type LocalState } from '../../src/local-state.js'
import { DEFAULT_MAX_SKEW_MS } from '../../src/constants.js'
import { SyncEngine, type RoleView, type WrittenDataset } from '../../src/sync/engine.js'
import { BayesFile } from '../../src/settings/bayes-file.js'
import { FakeSyncNetwork } from './fake-sync-network.js'
import type { TombstoneOptions } from '../../src/crdt/tombstone-floor.js'
import type { HistoryBound } from '../../src/sync/history-bound.js'

/** The election as one node sees it; the test sets it. */
export interface Roles { role: RoleView['role'], masterId: string | null, term: number }

/** One node of the cluster. */
export interface FakeNode {
  name: string
  nodeId: string
  settingsDir: string
  state: LocalState
  engine: SyncEngine
  roles: Roles
  fanOut: boolean
  /** The datasets of every onFilesChanged call, in order. */
  written: WrittenDataset[][]
  /** When the others last heard this node's beacon, for the tombstone floor; null: just now. */
  lastSeenMs: number | null
}

/** How the nodes are made. */
export interface ClusterOptions {
  /** Full archives go from peer to peer (default off). */
  fanOut?: boolean
  /** Versions the master keeps for history and rollback (default 10). */
  historyVersions?: number
  /** Bytes of list content the history keeps (default: the engine's). */
  historyBound?: HistoryBound
  /** How long tombstones wait (default: the engine's). */
  tombstones?: Partial<TombstoneOptions>
}

/** The nodes of one test and the network between them. */
export class FakeCluster {
  readonly network = new FakeSyncNetwork()
  private readonly nodes = new Map<string, FakeNode>()

  private constructor (private readonly root: string, private readonly opts: ClusterOptions) {}

  /** Opens a node per name, all candidates; they are closed and their folders removed after `t`. */
  static async open (t: TestContext, names: string[], opts: ClusterOptions = {}): Promise<FakeCluster> {
    const cluster = new FakeCluster(await mkdtemp(join(tmpdir(), 'spamsync-fake-cluster-')), opts)
    t.after(async () => { await cluster.close() })
    for (const name of names) await cluster.add(name)
    return cluster
  }

  /** Opens one more node (a candidate), as the agent starts it. */
  async add (name: string): Promise<FakeNode> {
    const dir = join(this.root, name)
    const settingsDir = join(dir, 'settings')
    const state = await openLocalState({ dataDir: join(dir, 'data'), settingsDir, maxSkewMs: DEFAULT_MAX_SKEW_MS })
    const nodeId = state.identity.nodeId
    const roles: Roles = { role: 'candidate', masterId: null, term: 0 }
    const written: WrittenDataset[][] = []
    const fanOut = this.opts.fanOut ?? false
    const engine = new SyncEngine({
      nodeId,
      store: state.store,
      replica: state.replica,
      folder: state.folder,
      roles,
      network: this.network.networkOf(nodeId),
      strictVersion: false,
      historyVersions: this.opts.historyVersions ?? 10,
      historyBound: this.opts.historyBound,
      fanOut,
      bayes: { replica: state.bayes, file: new BayesFile(settingsDir, { exportCommand: '', importCommand: '', commandTimeoutMs: 10_000 }), maxTokens: 0 },
      hooks: { onFilesChanged: (datasets) => { written.push(datasets) } },
      tombstones: this.opts.tombstones,
      // Every other node, as its last beacon told: the version it applied, and when it was heard.
      members: () => [...this.nodes.values()].filter(n => n.nodeId !== nodeId).map(n => ({ nodeId: n.nodeId, applied: n.engine.appliedVersion, lastSeenMs: n.lastSeenMs ?? Date.now() }))
    })
    await engine.load()
    const node: FakeNode = { name, nodeId, settingsDir, state, engine, roles, fanOut, written, lastSeenMs: null }
    this.nodes.set(name, node)
    this.network.add(node)
    return node
  }

  /** The node named `name`. */
  node (name: string): FakeNode {
    const n = this.nodes.get(name)
    if (n === undefined) throw new Error(`no node ${name}`)
    return n
  }

  /** The election's outcome: `name` is master of `term`, every other node its slave and uploads. */
  async elect (name: string, term: number): Promise<FakeNode> {
    const master = this.node(name)
    for (const n of this.nodes.values()) Object.assign(n.roles, { role: n === master ? 'master' : 'slave', masterId: master.nodeId, term })
    await master.engine.becameMaster()
    for (const n of this.nodes.values()) if (n !== master) n.engine.followMaster()
    return master
  }

  /** Waits until no node has an upload, fetch or queued change in flight. */
  async settle (): Promise<void> {
    // A node's work can start another's (an upload, a beacon): drain until a round adds no event.
    for (let seen = -1; seen !== this.network.events.length;) {
      seen = this.network.events.length
      for (const n of this.nodes.values()) await n.engine.drain()
    }
  }

  /** Writes a settings file of `node` and has its engine scan it (as the watcher does). */
  async edit (node: FakeNode, file: string, text: string): Promise<void> {
    await writeFile(join(node.settingsDir, file), text)
    if (file === 'bayes.txt') await node.engine.bayesChanged()
    else await node.engine.localChanged()
  }

  /** The lines of a settings file of `node`, without comments, sorted. */
  async lines (node: FakeNode, file: string): Promise<string[]> {
    const text = await readFile(join(node.settingsDir, file), 'utf8').catch(() => '')
    return text.split('\n').filter(l => l.trim() !== '' && !l.startsWith('#')).sort()
  }

  private async close (): Promise<void> {
    const errors: unknown[] = []
    this.network.close()
    for (const n of this.nodes.values()) {
      this.network.remove(n.nodeId)
      try {
        await n.engine.drain()
      } catch (err) {
        errors.push(err)
      }
      await n.state.close()
    }
    await rm(this.root, { recursive: true, force: true })
    if (errors.length > 0) throw new AggregateError(errors, 'engines failed while draining')
  }
}
