/**
 * Composition root: builds the parts of a running agent in dependency order, wires them
 * together, and starts and stops them in order. No other module wires parts to each other, and
 * nothing here does a part's work.
 *
 * The one cycle: the election asks the sync engine for its versions and tells it, the beacon
 * router and the role handling of its events, while those need the election. The election is
 * built first and calls them through a {@link Later}, bound before anything starts.
 */
import { commandDirOf, nodeName, type Config } from './config.js'
import { openLocalState, type LocalState } from './local-state.js'
import { loadOrCreateClusterKey } from './net/cluster-key.js'
import { createSpamsyncNode, ownAddressBytes, type SpamsyncNode } from './net/libp2p-node.js'
import { PeerDirectory } from './cluster/peer-directory.js'
import { agentHeartbeat } from './cluster/heartbeat.js'
import { DEFAULT_HEARTBEAT_INTERVAL_MS, Election, type Role } from './election/state.js'
import { readTerm, writeTerm } from './store/term-file.js'
import { guarded, type Reporter } from './guarded.js'
import { Later } from './later.js'
import { checkWritableFolder } from './settings/folder-access.js'
import { SyncEngine } from './sync/engine.js'
import { engineHooks } from './sync/engine-hooks.js'
import { ArchiveHolders } from './sync/archive-holders.js'
import { roleChangeHandler } from './sync/role-change.js'
import { routeRollback } from './sync/rollback-route.js'
import { syncNow } from './sync/sync-now.js'
import { startSchedule, syncJobs } from './sync/schedule.js'
import { WireServices } from './protocol/wire-services.js'
import { BeaconLink } from './protocol/beacon-link.js'
import { BeaconRouter } from './protocol/beacon-router.js'
import { Libp2pSyncNetwork } from './sync/sync-network.js'
import { TrafficCounter } from './protocol/traffic.js'
import { TransferProgress } from './protocol/transfer-progress.js'
import { afterApplyHookFor, type AfterApplyHook } from './ops/after-apply-hook.js'
import { outputRunnerFor, type OutputRunner } from './outputs/runner.js'
import { watchFolder, type FolderWatch } from './settings/watch.js'
import { BayesFile } from './settings/bayes-file.js'
import { startStatusServer, type StatusServer } from './http/status-server.js'
import { StatusReport } from './http/status-report.js'
import { controlTokenPath, loadOrCreateControlToken } from './http/control-token.js'
import { AgentMetrics } from './http/metrics.js'
import { SecretModeWarnings, agentSecrets } from './file-modes.js'
import { createLog, type Log } from './log.js'
import { ClusterClock } from './crdt/cluster-clock.js'
import { ClockSkewMonitor } from './cluster/clock-skew.js'
import { ClusterView } from './cluster/health.js'
import type { StatusDocument } from './http/status-document.js'
import type { Version } from './version.js'
import type { RollbackOutcome } from './archive/change-summary.js'
import type { TombstoneOptions } from './crdt/tombstone-floor.js'

/** Time between heartbeats (beacons) of every node. */
export const HEARTBEAT_INTERVAL_MS = DEFAULT_HEARTBEAT_INTERVAL_MS

export type { StatusDocument } from './http/status-document.js'

/** The parts the election calls back into, built after it. */
interface ElectionCallees {
  engine: SyncEngine
  beacons: BeaconRouter
  roleChanged: (role: Role, masterId: string | null, term: number) => void
}

/** What every part is built from: the config, the log, the clock and the opened state and node. */
interface Base {
  config: Config
  log: Log
  clock: ClusterClock
  state: LocalState
  node: SpamsyncNode
  /** Where every caught error goes: the engine's error log (status) and the log. */
  report: Reporter
  callees: Later<ElectionCallees>
}

/** How an agent starts besides its config: tests give a node a skewed `wallClock`, and `tombstones` waits shorter than the config's and the defaults (crdt/tombstone-floor.ts). */
export interface AgentOptions { wallClock?: () => number, tombstones?: Partial<TombstoneOptions> }

/** The election and the parts between it and the network. */
interface NetworkSide {
  traffic: TrafficCounter
  transfer: TransferProgress
  metrics: AgentMetrics
  cluster: ClusterView
  peers: PeerDirectory
  election: Election
  holders: ArchiveHolders
  network: Libp2pSyncNetwork
}

/** The sync engine and what it drives on this host. */
interface SyncSide {
  afterApply: AfterApplyHook | null
  outputs: OutputRunner | null
  engine: SyncEngine
}

/** The parts that read the engine. */
interface Views {
  heartbeat: ReturnType<typeof agentHeartbeat>
  beacons: BeaconRouter
  status: StatusReport
  services: WireServices
}

/** The parts of a running agent. */
type Parts = Base & NetworkSide & SyncSide & Views

/** Builds the peer directory, the election (which reaches later parts through `callees`) and the engine's network. */
async function buildNetworkSide (base: Base): Promise<NetworkSide> {
  const { config, state, node, callees } = base
  const peers = await PeerDirectory.open({ node, store: state.store, bootstrap: config.bootstrap, strictVersion: config.strictVersion, log: base.log, report: base.report })
  const election = new Election({
    nodeId: state.identity.nodeId,
    priority: config.priority,
    pin: config.role,
    term: readTerm(config.dataDir),
    clock: Date.now,
    heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
    transport: {
      publish: (beacon) => { callees.get().beacons.publish(beacon) },
      connected: (nodeId) => peers.connected(nodeId),
      connectedAny: () => node.getPeers().length > 0
    },
    events: {
      persistTerm: (term) => { writeTerm(config.dataDir, term) },
      onRoleChange: (role, masterId, term) => { callees.get().roleChanged(role, masterId, term) },
      onTermStart: (term, reason) => { base.log.info({ event: 'term-start', term, ...reason }, `term ${term}: ${reason.cause}${reason.nodeId === null ? '' : ` (${reason.nodeId})`}`) },
      onUploadFullState: () => { callees.get().engine.followMaster() }
    },
    version: () => callees.get().engine.version,
    appliedVersion: () => callees.get().engine.appliedVersion,
    canLead: () => callees.get().engine.canApply
  })
  const traffic = new TrafficCounter()
  const transfer = new TransferProgress()
  const metrics = new AgentMetrics()
  const holders = new ArchiveHolders(() => election.members())
  const network = new Libp2pSyncNetwork({
    node,
    nodeId: state.identity.nodeId,
    traffic,
    transfer,
    timeSync: async (direction, work) => await metrics.timeSync(direction, work),
    fanOut: config.fanOut,
    holders,
    announce: () => { election.announce() }
  })
  return { traffic, transfer, metrics, cluster: new ClusterView(config.name, Date.now), peers, election, holders, network }
}

/** Builds the sync engine and what it drives on this host: the Bayes file, the afterApply hook, the outputs. */
function buildSyncSide (base: Base, net: NetworkSide, tombstones: AgentOptions['tombstones']): SyncSide {
  const { config, log, state, report } = base
  const cwd = commandDirOf(config)
  const bayesFile = new BayesFile(config.settingsDir, {
    exportCommand: config.bayesExportCommand,
    importCommand: config.bayesImportCommand,
    commandTimeoutMs: config.bayesCommandTimeoutSeconds * 1000,
    maxFileBytes: config.maxSettingsFileBytes,
    cwd,
    known: state.bayes.fileKnown
  })
  const afterApply = afterApplyHookFor({ ...config, commandDir: cwd }, log, report)
  const outputs = outputRunnerFor({ ...config, commandDir: cwd }, state.replica, log, report)
  const { election, peers, cluster } = net
  const engine = new SyncEngine({
    nodeId: state.identity.nodeId,
    store: state.store,
    replica: state.replica,
    folder: state.folder,
    roles: election,
    strictVersion: config.strictVersion,
    historyVersions: config.historyVersions, historyBound: { floorBytes: config.historyFloorBytes, factor: config.historyFactor },
    tombstones: { keepMs: config.tombstoneKeepHours * 3600_000, ...tombstones },
    fanOut: config.fanOut,
    // A node live or connected uploads its own Bayes contribution: no other node may grow it.
    speaksForItself: (nodeId) => election.members().some(m => m.nodeId === nodeId && m.live) || peers.connected(nodeId),
    // A name its beacons told (the history keeps no id where a name belongs).
    nameOf: (nodeId) => nodeId === state.identity.nodeId ? config.name : cluster.knownName(nodeId),
    // Every member heard since start, for the tombstone floor (a lone node waits for no one).
    members: () => election.members().map(m => ({ nodeId: m.nodeId, applied: m.appliedVersion, lastSeenMs: m.lastSeen })),
    bayes: { replica: state.bayes, file: bayesFile, maxTokens: config.bayesMaxTokens },
    hooks: engineHooks({
      log,
      listPath: (ds) => state.folder.path(ds),
      bayesPath: bayesFile.path,
      afterApply,
      outputs,
      metrics: net.metrics,
      // The engine itself, bound before its first event.
      applied: () => base.callees.get().engine.appliedVersion
    }),
    network: net.network
  })
  return { afterApply, outputs, engine }
}

/** Builds the parts that read the engine (clock skew, status, beacons, role changes, wire services); binds the election's callees. */
function buildViews (base: Base, net: NetworkSide, sync: SyncSide): Views {
  const { config, log, clock, state, node, report } = base
  const { election, cluster } = net
  const { engine } = sync
  const nodeId = state.identity.nodeId
  const heartbeat = agentHeartbeat({ intervalMs: HEARTBEAT_INTERVAL_MS, election, engine, peers: net.peers, report })
  const skews = new ClockSkewMonitor({ selfId: nodeId, clock, warnMs: config.maxSkewMs / 2, nameOf: (id) => cluster.nameOf(id), log, clockMoved: async () => { await engine.clockMoved() }, report })
  const warnings = new SecretModeWarnings(agentSecrets(config.dataDir, config.clusterKey, controlTokenPath(config.dataDir)), (w) => { log.warn({ event: 'file-mode' }, w) })
  const status = new StatusReport({
    ...net,
    ...sync,
    ...state,
    nodeId,
    skews,
    listen: () => node.getMultiaddrs().map(ma => ma.toString()),
    warnings: () => warnings.check(),
    startedAtMs: Date.now()
  })
  const beacons = new BeaconRouter({
    selfId: nodeId,
    strictVersion: config.strictVersion,
    openLink: (receive) => new BeaconLink(node, receive, net.traffic.beacons),
    report,
    privateKey: state.identity.privateKey,
    own: () => ({
      addrs: ownAddressBytes(node),
      fullArchive: engine.fullArchive ?? undefined,
      wallMs: clock.local(),
      name: cluster.name,
      health: cluster.ownHealth(status.selfSeen(), election.members()),
      tombstoneFloor: election.role === 'master' ? engine.tombstones.floor : 0
    }),
    ...net,
    clock: skews,
    engine,
    masterBeat: () => { heartbeat.beat() }
  })
  base.callees.bind({ engine, beacons, roleChanged: roleChangeHandler({ log, nameOf: (id) => cluster.nameOf(id), clock: skews, engine, report }) })
  warnings.check()
  const services = new WireServices(node, engine, { dataDir: config.dataDir, strictVersion: config.strictVersion, traffic: net.traffic, timeMerge: async (work) => await net.metrics.timeMerge(work), report })
  return { heartbeat, beacons, status, services }
}

/** A running agent. */
export class Agent {
  private watch: FolderWatch | null = null
  private http: StatusServer | null = null
  private timers: NodeJS.Timeout[] = []
  private stopSchedule: (() => void) | null = null
  private stopped = false

  private constructor (private readonly parts: Parts) {}

  /** Builds and starts an agent. List edits are stamped on cluster time, the master's clock (src/crdt/cluster-clock.ts). */
  static async start (given: Config, opts: AgentOptions = {}): Promise<Agent> {
    const config = { ...given, name: nodeName(given) }
    const log = createLog(config.logLevel, config.name)
    const clock = new ClusterClock(opts.wallClock)
    const state = await openLocalState(config, () => clock.now())
    if (state.dataDirModeBefore !== null) {
      log.warn({ event: 'file-mode', path: config.dataDir, mode: state.dataDirModeBefore.toString(8) }, `data folder ${config.dataDir} was open to group or others: tightened to 0700`)
    }
    let node: SpamsyncNode | undefined
    try {
      await checkWritableFolder(config.settingsDir)
      const clusterKey = await loadOrCreateClusterKey(config.clusterKey)
      node = await createSpamsyncNode({ privateKey: await state.identity.privateKey(), clusterKey, listen: config.listen, bootstrap: config.bootstrap, mdns: config.mdns })
      const callees = new Later<ElectionCallees>('the election\'s callees')
      const base: Base = { config, log, clock, state, node, callees, report: (what, err) => { callees.get().engine.report(what, err) } }
      const net = await buildNetworkSide(base)
      const sync = buildSyncSide(base, net, opts.tombstones)
      await sync.engine.load()
      const agent = new Agent({ ...base, ...net, ...sync, ...buildViews(base, net, sync) })
      await agent.run()
      log.info({ event: 'started', nodeId: state.identity.nodeId, listen: node.getMultiaddrs().map(String), httpPort: agent.httpPort }, 'agent started')
      return agent
    } catch (err) {
      await node?.stop()
      await state.close()
      throw err
    }
  }

  /** The agent's config, its node name filled in. */
  get config (): Config {
    return this.parts.config
  }

  get election (): Election {
    return this.parts.election
  }

  get engine (): SyncEngine {
    return this.parts.engine
  }

  /** The HTTP port actually bound. */
  get httpPort (): number {
    return this.http?.port ?? this.parts.config.httpPort
  }

  /** This node's id. */
  get nodeId (): string {
    return this.parts.state.identity.nodeId
  }

  /** The stored state (tests reach into it). */
  private get state (): LocalState {
    return this.parts.state
  }

  /** The status document of `GET /status`. */
  status (): StatusDocument {
    return this.parts.status.status()
  }

  /** Rolls the lists back to a kept version (or says what that would change): here when this node is master, else on the master. */
  async rollback (version: Version, dryRun = false): Promise<RollbackOutcome> {
    const { election, engine, network, log } = this.parts
    return await routeRollback({
      roles: election,
      local: async (v, dry) => await engine.rollback(v, { dryRun: dry }),
      forward: async (masterId, v, dry) => await network.forwardRollback(masterId, v, dry),
      log
    }, version, dryRun)
  }

  /** Starts the wire services and the beacons, catches up with the settings folder, then serves and ticks. */
  private async run (): Promise<void> {
    const { node, peers, beacons, engine, services, report } = this.parts
    await services.start()
    // Nothing a callback throws may end the process: guarded() puts it in status and the log.
    node.addEventListener('peer:identify', guarded('peer identify', report, (evt) => { peers.identified(evt.detail.peerId, evt.detail.agentVersion) }))
    node.addEventListener('peer:discovery', guarded('peer discovery', report, (evt) => { peers.discovered(evt.detail.id) }))
    await beacons.start()
    // Stamp what the operator changed while the agent was down, and write what the cluster
    // changed meanwhile once it arrives.
    await engine.localChanged()
    await engine.bayesChanged()
    await engine.restoreFiles()
    // A new server renders at once; an unchanged output is neither written nor run.
    this.parts.outputs?.changed()
    await this.startControl()
    this.startTimers()
  }

  /** The settings folder watch and the HTTP status and control API. */
  private async startControl (): Promise<void> {
    const { config, engine, election, metrics, status, report } = this.parts
    this.watch = watchFolder(config.settingsDir, {
      debounceMs: config.debounceMs,
      rescanIntervalMs: config.rescanIntervalSeconds * 1000,
      onError: (err) => { report('watch settings folder', err) }
    }, guarded('scan', report, async () => await engine.localChanged()))
    const token = await loadOrCreateControlToken(config.dataDir)
    this.http = await startStatusServer(config.httpHost, config.httpPort, {
      status: () => status.status(),
      metrics: async () => await metrics.text(status.status()),
      sync: async (opts) => await syncNow(engine, election, opts),
      history: async () => await engine.history(),
      historyItem: async (version) => await engine.historyItem(version),
      rollback: async (version, dryRun) => await this.rollback(version, dryRun)
    }, { token, allowedHosts: config.httpAllowedHosts })
  }

  /** The heartbeat (election and engine), the redial, the Bayes scan and the scheduled syncs. */
  private startTimers (): void {
    const { config, election, engine, peers, report, heartbeat } = this.parts
    election.start()
    heartbeat.start()
    if (config.bayesScanIntervalSeconds > 0) {
      this.timers.push(setInterval(guarded('bayes scan', report, async () => await engine.bayesChanged()), config.bayesScanIntervalSeconds * 1000))
    }
    this.stopSchedule = startSchedule(syncJobs(engine, config.uploadIntervalHours, config.downloadIntervalHours), report)
    peers.redial()
  }

  /** Stops in order: no new work, in-flight apply finishes, network down, store closed. */
  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    const { engine, afterApply, outputs, peers, beacons, services, node, state, log } = this.parts
    this.parts.heartbeat.stop()
    for (const t of this.timers) clearInterval(t)
    this.stopSchedule?.()
    peers.stop()
    this.watch?.close()
    await this.http?.close()
    await engine.drain()
    // A hook started by an apply finishes too (each run is bounded by hooksTimeoutSeconds).
    await afterApply?.idle()
    outputs?.stop()
    await outputs?.idle()
    await services.stop()
    await beacons.stop()
    await node.stop()
    await state.close()
    log.info({ event: 'stopped' }, 'agent stopped')
  }
}
