/**
 * Composition root: builds the parts of a running agent, wires them together, and starts and
 * stops them in order. No other module wires parts to each other.
 */
import { join, resolve } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { LIST_DATASETS, AGENT_VERSION, PROTOCOL_VERSION, SCHEMA_VERSION } from './constants.js'
import { commandDirOf, nodeName, type Config } from './config.js'
import { openLocalState, type LocalState } from './local-state.js'
import { loadOrCreateClusterKey } from './net/cluster-key.js'
import { BeaconLink } from './protocol/beacon-link.js'
import { createSpamsyncNode, type SpamsyncNode } from './net/libp2p-node.js'
import { Election, type Beacon as ElectionBeacon } from './election/state.js'
import { readTerm, writeTerm } from './store/term-file.js'
import { beaconOutOfBounds } from './election/beacon-bounds.js'
import { guarded } from './guarded.js'
import { worthLogging } from './sync/error-log.js'
import { checkWritableFolder } from './settings/folder-access.js'
import { SyncEngine } from './sync/engine.js'
import { UploadService, uploadTo } from './protocol/upload-service.js'
import { FetchService, fetchFrom } from './protocol/fetch-service.js'
import { ControlService, controlRequest } from './protocol/control-service.js'
import { BeaconBoundsError, NoMasterError, errorMessage } from './errors.js'
import { TrafficCounter } from './protocol/traffic.js'
import { TransferProgress } from './protocol/transfer-progress.js'
import { AfterApplyHook } from './ops/after-apply-hook.js'
import { outputRunnerFor, type OutputRunner } from './outputs/runner.js'
import { startSchedule, HOUR_MS } from './sync/schedule.js'
import { incompatibility, LOCAL_VERSIONS, parseUserAgent } from './protocol/compat.js'
import { watchFolder, type FolderWatch } from './settings/watch.js'
import { BayesFile } from './settings/bayes-file.js'
import { startStatusServer, type StatusServer } from './http/status-server.js'
import { controlTokenPath, loadOrCreateControlToken } from './http/control-token.js'
import { secretWarnings } from './file-modes.js'
import { AgentMetrics } from './http/metrics.js'
import { ArchiveKind, Beacon, Pin, Role, type ArchiveId, type Hello } from './pb/spamsync.js'
import { ZERO_VERSION, compareVersions, formatVersion, type Version } from './version.js'
import type { RollbackOutcome } from './archive/change-summary.js'
import { sameArchive, type ArchiveRef } from './protocol/archive-ref.js'
import { createLog, type Log } from './log.js'
import { ClockSkews, ClusterClock } from './crdt/cluster-clock.js'
import { printable, PEER_TEXT_MAX } from './printable.js'
import { AddressBook } from './net/address-book.js'
import { ClusterView, clusterSummary, type SelfSeen } from './cluster/health.js'

/** Meta key of the address book (src/net/address-book.ts). */
const META_KNOWN_PEERS = 'knownPeers'

/** Time between heartbeats (beacons) of every node. */
export const HEARTBEAT_INTERVAL_MS = 1000

/** A member not heard from for this long is introduced to the linked peers again when it is back. */
export const INTRODUCE_AFTER_MS = 3 * HEARTBEAT_INTERVAL_MS

/** How often a node redials bootstrap peers it lost (a restarted peer comes back by itself). */
export const REDIAL_INTERVAL_MS = 2000

const ROLE_TO_PB = { candidate: Role.CANDIDATE, slave: Role.SLAVE, master: Role.MASTER } as const
const ROLE_FROM_PB = { [Role.CANDIDATE]: 'candidate', [Role.SLAVE]: 'slave', [Role.MASTER]: 'master' } as const
const PIN_TO_PB = { auto: Pin.AUTO, master: Pin.PINNED_MASTER, slave: Pin.PINNED_SLAVE } as const
const PIN_FROM_PB = { [Pin.AUTO]: 'auto', [Pin.PINNED_MASTER]: 'master', [Pin.PINNED_SLAVE]: 'slave' } as const

/** Peers whose last failed dial status shows. */
const MAX_DIAL_ERRORS = 64

/** What this node knows of a peer's versions, for status. */
interface PeerInfo {
  agentVersion: string
  protocolVersion: number
  schemaVersion: number
  compatible: boolean
  reason: string | null
  lastSeen: number
}

/** A peer's versions as status keeps them: its own words (agent version, reason) made printable. */
function peerInfo (versions: Omit<PeerInfo, 'compatible' | 'reason' | 'lastSeen'>, reason: string | null): PeerInfo {
  return {
    ...versions,
    agentVersion: printable(versions.agentVersion, PEER_TEXT_MAX),
    compatible: reason === null,
    reason: reason === null ? null : printable(reason, PEER_TEXT_MAX),
    lastSeen: Date.now()
  }
}

/** A running agent. */
export class Agent {
  private readonly traffic = new TrafficCounter()
  private readonly transfer = new TransferProgress()
  private readonly metrics = new AgentMetrics(() => this.status())
  private readonly peers = new Map<string, PeerInfo>()
  /** The last failed dial of each peer since it last answered one, for status (`peers[].lastDialError`). */
  private readonly dialErrors = new Map<string, { time: string, message: string }>()
  private readonly startedAt = Date.now()
  private timers: NodeJS.Timeout[] = []
  private watch: FolderWatch | null = null
  private http: StatusServer | null = null
  private uploadService: UploadService | null = null
  private fetchService: FetchService | null = null
  private controlService: ControlService | null = null
  private afterApply: AfterApplyHook | null = null
  private outputs: OutputRunner | null = null
  private stopSchedule: (() => void) | null = null
  private beaconLink: BeaconLink | null = null
  /** The last beacon each member sent this node itself, and when: the introductions of beacon-link.ts. */
  private readonly lastBeacons = new Map<string, { bytes: Uint8Array, at: number }>()
  private stopped = false
  /** Peers already logged as refused: a refusal is logged once, not on every redial. */
  private readonly loggedRefusals = new Set<string>()
  /**
   * Where this node met each member, kept in the store: a node that restarts, or whose bootstrap
   * peer is gone, still finds the cluster by dialling the members it knew.
   */
  private addressBook = new AddressBook(Date.now)
  /** The full archive each peer's last beacon announced (fan-out). */
  private readonly heldBy = new Map<string, ArchiveRef>()
  /** Each node's clock against the master's; logged once when beyond half the skew bound. */
  private readonly skews: ClockSkews
  /** File-mode warnings already logged: each is logged once, and shown in status while it holds. */
  private readonly loggedWarnings = new Set<string>()
  /** Each node's name and health from its beacons: the cluster view of status. */
  private readonly cluster: ClusterView

  private constructor (
    readonly config: Config,
    private readonly state: LocalState,
    private readonly node: SpamsyncNode,
    readonly election: Election,
    readonly engine: SyncEngine,
    private readonly log: Log,
    private readonly clock: ClusterClock
  ) {
    this.skews = new ClockSkews(config.maxSkewMs / 2)
    this.cluster = new ClusterView(config.name, Date.now)
  }

  /**
   * Builds and starts an agent; `wallClock` is its own clock (tests give a node a skewed one).
   * List edits are stamped on cluster time, the master's clock (src/crdt/cluster-clock.ts).
   */
  static async start (given: Config, opts: { wallClock?: () => number } = {}): Promise<Agent> {
    const config = { ...given, name: nodeName(given) }
    const log = createLog(config.logLevel, config.name)
    const clock = new ClusterClock(opts.wallClock)
    const state = await openLocalState(config, () => clock.now())
    let node: SpamsyncNode | undefined
    try {
      await checkWritableFolder(config.settingsDir)
      const clusterKey = await loadOrCreateClusterKey(config.clusterKey)
      node = await createSpamsyncNode({ privateKey: await state.identity.privateKey(), clusterKey, listen: config.listen, bootstrap: config.bootstrap, mdns: config.mdns })
      let agent: Agent | undefined
      const election = new Election({
        nodeId: state.identity.nodeId,
        priority: config.priority,
        pin: config.role,
        term: readTerm(config.dataDir),
        clock: Date.now,
        heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
        transport: {
          publish: (beacon) => { agent?.publish(beacon) },
          connected: (nodeId) => node!.getConnections(peerIdFromString(nodeId)).length > 0,
          connectedAny: () => node!.getPeers().length > 0
        },
        events: {
          persistTerm: (term) => { writeTerm(config.dataDir, term) },
          onRoleChange: (role) => { agent?.roleChanged(role) },
          onUploadFullState: () => { agent?.engine.followMaster() }
        },
        version: () => agent?.engine.version ?? ZERO_VERSION,
        appliedVersion: () => agent?.engine.appliedVersion ?? ZERO_VERSION,
        canLead: () => agent?.engine.canApply ?? true
      })
      const bayesFile = new BayesFile(config.settingsDir, {
        exportCommand: config.bayesExportCommand,
        importCommand: config.bayesImportCommand,
        commandTimeoutMs: config.bayesCommandTimeoutSeconds * 1000,
        maxFileBytes: config.maxSettingsFileBytes,
        cwd: commandDirOf(config)
      })
      const afterApply = config.hooksAfterApply === ''
        ? null
        : new AfterApplyHook({
          command: config.hooksAfterApply,
          timeoutMs: config.hooksTimeoutSeconds * 1000,
          cwd: commandDirOf(config),
          onSuccess: (files, result) => { log.info({ event: 'hook', hook: 'afterApply', files, ms: result.durationMs }, 'afterApply hook ran') },
          onFailure: (err) => { engine.report('hook afterApply', err) }
        })
      const outputs = outputRunnerFor({ ...config, commandDir: commandDirOf(config) }, state.replica, log, (what, err) => { engine.report(what, err) })
      const engine = new SyncEngine({
        nodeId: state.identity.nodeId,
        store: state.store,
        replica: state.replica,
        folder: state.folder,
        roles: election,
        strictVersion: config.strictVersion,
        historyVersions: config.historyVersions,
        fanOut: config.fanOut,
        speaksForItself: (nodeId) => agent?.speaksForItself(nodeId) ?? false,
        nameOf: (nodeId) => nodeId === state.identity.nodeId ? config.name : agent?.knownName(nodeId),
        bayes: {
          replica: state.bayes,
          file: bayesFile,
          maxTokens: config.bayesMaxTokens
        },
        hooks: {
          onFilesChanged: (datasets) => {
            log.info({ event: 'files-written', datasets, version: formatVersion(engine.appliedVersion) }, 'settings files updated')
            // Absolute paths: the hook may run in another folder than the agent was started in.
            afterApply?.changed(datasets.map(ds => resolve(ds === 'bayes' ? bayesFile.path : state.folder.path(ds))))
            if (datasets.some(ds => ds !== 'bayes')) outputs?.changed()
          },
          // The node where the edit was made renders and runs the hook too, like every other.
          onLocalEdits: (datasets) => {
            afterApply?.changed(datasets.map(ds => resolve(state.folder.path(ds))))
            outputs?.changed()
          },
          onError: (report) => {
            // A fault that retries every heartbeat is logged at its 1st, 10th, 100th, ... time.
            if (worthLogging(report.count)) log.warn({ event: 'sync-error', what: report.what, count: report.count }, report.message)
            agent?.metrics.errorReported(report.what)
          }
        },
        network: {
          upload: async (masterId, req, zip) => await agent!.metrics.timeSync('upload', async () => await agent!.transfer.track('upload', async (onProgress) => await uploadTo(node!, peerIdFromString(masterId), {
            hello: agent!.hello(), kind: req.kind === 'full' ? ArchiveKind.FULL : ArchiveKind.DELTA, baseTerm: req.baseTerm, baseLseq: req.baseLseq
          }, zip, agent!.traffic, onProgress))),
          fetch: async (peerId, since, want, archive) => {
            const request = { hello: agent!.hello(), since, want, archive, fanOut: config.fanOut }
            const { response, zip } = await agent!.metrics.timeSync('download', async () => await agent!.transfer.track('download', async (onProgress) => await fetchFrom(node!, peerIdFromString(peerId), request, agent!.traffic, onProgress)))
            const named = response.version === undefined || response.sha256.byteLength === 0 ? undefined : { version: response.version, size: response.size, sha256: response.sha256 }
            return { status: response.status, reason: response.reason, version: response.version, full: response.kind === ArchiveKind.FULL, archive: named, sources: response.sources, zip, history: response.history }
          },
          holders: (archive) => agent?.holders(archive) ?? [],
          awaited: (nodeId, archive) => agent?.awaited(nodeId, archive) ?? false,
          announce: () => { agent?.election.announce() }
        }
      })
      await engine.load()
      agent = new Agent(config, state, node, election, engine, log, clock)
      agent.addressBook = AddressBook.load(await state.store.getMeta<unknown>(META_KNOWN_PEERS), Date.now)
      agent.addressBook.delete(state.identity.nodeId)
      agent.afterApply = afterApply
      agent.outputs = outputs
      await agent.startParts()
      if (state.dataDirModeBefore !== null) {
        log.warn({ event: 'file-mode', path: config.dataDir, mode: state.dataDirModeBefore.toString(8) }, `data folder ${config.dataDir} was open to group or others: tightened to 0700`)
      }
      agent.warnings()
      log.info({ event: 'started', nodeId: state.identity.nodeId, listen: node.getMultiaddrs().map(String), httpPort: agent.httpPort }, 'agent started')
      return agent
    } catch (err) {
      await node?.stop()
      await state.close()
      throw err
    }
  }

  /** The HTTP port actually bound. */
  get httpPort (): number {
    return this.http?.port ?? this.config.httpPort
  }

  /** This node's id. */
  get nodeId (): string {
    return this.state.identity.nodeId
  }

  private hello (): Hello {
    return { nodeId: this.nodeId, ...LOCAL_VERSIONS }
  }

  private async startParts (): Promise<void> {
    const { node, engine, config } = this
    this.uploadService = new UploadService(node, {
      refusal: (hello) => engine.uploadRefusal(hello),
      needsFull: (nodeId, baseTerm) => engine.needsFull(nodeId, baseTerm),
      merge: async (nodeId, zip, kind) => await this.metrics.timeMerge(async () => await engine.mergeUpload(nodeId, zip, kind))
    }, this.traffic, { partialDir: join(config.dataDir, 'uploads'), report: (what, err) => { engine.report(what, err) } })
    this.fetchService = new FetchService(node, {
      refusal: (hello) => { const bad = incompatibility(hello, config.strictVersion); return bad === null ? null : `incompatible: ${bad}` },
      serve: async (since, _want, ask) => await engine.serveFetch(since, ask)
    }, this.traffic)
    // A forwarded request is carried out here or refused, never forwarded again (no loops).
    this.controlService = new ControlService(node, { rollback: async (version, dryRun) => await engine.rollback(version, { dryRun }) }, config.strictVersion)
    await this.uploadService.start()
    await this.fetchService.start()
    await this.controlService.start()

    // Nothing a callback throws may end the process: guarded() puts it in status and the log.
    const report = (what: string, err: unknown): void => { engine.report(what, err) }
    node.addEventListener('peer:identify', guarded('peer identify', report, (evt) => { this.identified(evt.detail.peerId, evt.detail.agentVersion) }))
    node.addEventListener('peer:discovery', guarded('peer discovery', report, (evt) => { this.dialPeer(evt.detail.id) }))
    this.beaconLink = new BeaconLink(node, guarded('beacon', report, (from: string, bytes: Uint8Array) => { this.beaconFrom(from, bytes) }))
    await this.beaconLink.start()

    // Stamp what the operator changed while the agent was down, and write what the cluster
    // changed meanwhile once it arrives.
    await engine.localChanged()
    await engine.bayesChanged()
    await engine.restoreFiles()
    // A new server renders at once; an unchanged output is neither written nor run.
    this.outputs?.changed()
    this.watch = watchFolder(config.settingsDir, { debounceMs: config.debounceMs, rescanIntervalMs: config.rescanIntervalSeconds * 1000 }, guarded('scan', report, async () => await engine.localChanged()), (err) => { report('watch settings folder', err) })
    const token = await loadOrCreateControlToken(config.dataDir)
    this.http = await startStatusServer(config.httpHost, config.httpPort, {
      status: () => this.status(),
      metrics: async () => await this.metrics.text(),
      sync: async (opts) => await this.syncNow(opts),
      history: async () => await this.engine.history(),
      historyItem: async (version) => await this.engine.historyItem(version),
      rollback: async (version, dryRun) => await this.rollback(version, dryRun)
    }, { token, allowedHosts: config.httpAllowedHosts })
    this.election.start()
    const electionTick = guarded('election tick', report, () => { this.election.tick() })
    const engineTick = guarded('engine tick', report, () => { this.engine.tick() })
    this.timers.push(setInterval(() => {
      electionTick()
      engineTick()
    }, HEARTBEAT_INTERVAL_MS))
    this.timers.push(setInterval(guarded('redial', report, () => { this.redial() }), REDIAL_INTERVAL_MS))
    if (config.bayesScanIntervalSeconds > 0) {
      this.timers.push(setInterval(guarded('bayes scan', report, async () => await engine.bayesChanged()), config.bayesScanIntervalSeconds * 1000))
    }
    this.stopSchedule = startSchedule([
      {
        name: 'scheduled upload',
        intervalMs: config.uploadIntervalHours * HOUR_MS,
        run: async () => {
          await engine.localChanged()
          await engine.bayesChanged()
          await engine.syncUpload()
        }
      },
      { name: 'scheduled download', intervalMs: config.downloadIntervalHours * HOUR_MS, run: async () => { await engine.syncDownload() } }
    ], (name, err) => { engine.report(name, err) })
    this.redial()
  }

  /** Stops in order: no new work, in-flight apply finishes, network down, store closed. */
  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const t of this.timers) clearInterval(t)
    this.stopSchedule?.()
    this.watch?.close()
    await this.http?.close()
    await this.engine.drain()
    // A hook started by an apply finishes too (each run is bounded by hooksTimeoutSeconds).
    await this.afterApply?.idle()
    this.outputs?.stop()
    await this.outputs?.idle()
    await this.uploadService?.stop()
    await this.fetchService?.stop()
    await this.controlService?.stop()
    await this.beaconLink?.stop()
    await this.node.stop()
    await this.state.close()
    this.log.info({ event: 'stopped' }, 'agent stopped')
  }

  private publish (beacon: ElectionBeacon): void {
    if (this.stopped) return
    const msg = Beacon.encode({
      nodeId: beacon.nodeId,
      priority: beacon.priority,
      role: ROLE_TO_PB[beacon.role],
      term: beacon.term,
      masterId: beacon.masterId ?? '',
      version: beacon.version,
      appliedVersion: beacon.appliedVersion,
      protocolVersion: PROTOCOL_VERSION,
      schemaVersion: SCHEMA_VERSION,
      agentVersion: AGENT_VERSION,
      pin: PIN_TO_PB[beacon.pin],
      // getMultiaddrs() already ends each address with /p2p/<id>.
      addrs: this.node.getMultiaddrs().map(ma => ma.bytes),
      fullArchive: this.engine.fullArchive ?? undefined,
      wallMs: this.clock.local(),
      name: this.cluster.name,
      health: this.cluster.ownHealth(this.selfSeen(), this.election.members())
    })
    this.beaconLink?.send(msg, () => this.introductions())
  }

  /** The last beacons of the live members, for a peer whose link just opened. */
  private introductions (): Uint8Array[] {
    const live = this.election.members().filter(m => m.live).map(m => m.nodeId)
    return live.flatMap(id => { const last = this.lastBeacons.get(id); return last === undefined ? [] : [last.bytes] })
  }

  /**
   * A beacon frame from peer `from`. Only a member's own beacon counts; one it passes on of
   * another member (an introduction) is only a reason to dial that member, who then speaks for itself.
   */
  private beaconFrom (from: string, bytes: Uint8Array): void {
    let b: Beacon
    try {
      b = Beacon.decode(bytes)
    } catch {
      // A beacon that does not decode is dropped; the sender's next one may be fine.
      return
    }
    // Every number is bounded here, where it enters: past this point a term or version is exact.
    const bad = beaconOutOfBounds(b, this.election.term)
    if (bad !== null) throw new BeaconBoundsError(`beacon from ${from} dropped: ${bad}`)
    if (b.nodeId === from) {
      const before = this.lastBeacons.get(from)
      const now = Date.now()
      this.lastBeacons.set(from, { bytes, at: now })
      if (before === undefined || now - before.at > INTRODUCE_AFTER_MS) this.beaconLink?.introduce(bytes, from)
      this.received(b)
    } else if (b.nodeId !== this.nodeId && incompatibility(b, this.config.strictVersion) === null) {
      this.dialAddrs(b.nodeId, b.addrs)
    }
  }

  private received (b: Beacon): void {
    if (b.nodeId === this.nodeId) return
    const reason = incompatibility(b, this.config.strictVersion)
    this.peers.set(b.nodeId, peerInfo(b, reason))
    // An incompatible node is named too, in the peers it is listed in.
    this.cluster.heardFrom(b.nodeId, b.name, b.agentVersion, b.health)
    if (reason !== null) return
    this.dialAddrs(b.nodeId, b.addrs)
    this.rememberAddrs(b.nodeId, b.addrs)
    this.election.receive({
      nodeId: b.nodeId,
      priority: b.priority,
      pin: PIN_FROM_PB[b.pin],
      role: ROLE_FROM_PB[b.role],
      term: b.term,
      // Escaped, a master id with control characters still names no node, as before.
      masterId: b.masterId === '' ? null : printable(b.masterId, PEER_TEXT_MAX),
      version: b.version ?? ZERO_VERSION,
      appliedVersion: b.appliedVersion ?? ZERO_VERSION
    })
    if (b.role === Role.MASTER && b.nodeId === this.election.masterId) {
      if (b.wallMs > 0) this.heardMasterClock(b.wallMs)
      if (b.version !== undefined) this.engine.masterAnnounced(b.version)
    }
    this.heldChanged(b.nodeId, b.fullArchive)
    if (b.wallMs > 0) this.recordSkew(b.nodeId, this.clock.peerAhead(b.wallMs))
  }

  /** Records the full archive a peer announced, and tells the engine of a new one. */
  private heldChanged (nodeId: string, announced: ArchiveId | undefined): void {
    const ref = announced?.version === undefined || announced.sha256.byteLength === 0 ? undefined : { version: announced.version, size: announced.size, sha256: announced.sha256 }
    const before = this.heldBy.get(nodeId)
    if (ref === undefined) {
      this.heldBy.delete(nodeId)
      return
    }
    this.heldBy.set(nodeId, ref)
    if (before === undefined || !sameArchive(before, ref)) this.engine.archiveAnnounced(ref)
  }

  private fullArchiveStatus (): { version: Version, size: number, sha256: string } | null {
    const ref = this.engine.fullArchive
    return ref === null ? null : { version: ref.version, size: ref.size, sha256: Buffer.from(ref.sha256).toString('hex') }
  }

  /** Live peers whose last beacon announced `archive`. */
  holders (archive: ArchiveRef): string[] {
    const live = new Set(this.election.members().filter(m => m.live).map(m => m.nodeId))
    return [...this.heldBy].filter(([id, ref]) => live.has(id) && sameArchive(ref, archive)).map(([id]) => id)
  }

  /**
   * A node that may still come to hold `archive`: one not heard of yet (a node that just joined
   * hears the others within a heartbeat), or a live one that neither announces it nor has
   * applied its version.
   */
  awaited (nodeId: string, archive: ArchiveRef): boolean {
    const m = this.election.members().find(m => m.nodeId === nodeId)
    if (m === undefined) return true
    if (!m.live) return false
    const held = this.heldBy.get(nodeId)
    return (held === undefined || !sameArchive(held, archive)) && compareVersions(m.appliedVersion, archive.version) < 0
  }

  /** A node live in the election or connected now: it uploads its own Bayes contribution, no other node may grow it. */
  speaksForItself (nodeId: string): boolean {
    if (this.election.members().some(m => m.nodeId === nodeId && m.live)) return true
    try {
      return this.node.getConnections(peerIdFromString(nodeId)).length > 0
    } catch {
      // Not a peer id at all: no node of that name can be connected.
      return false
    }
  }

  /** The followed master's beacon told its clock: stamp on it from now on. */
  private heardMasterClock (masterWallMs: number): void {
    this.clock.heardMaster(masterWallMs)
    this.recordSkew(this.nodeId, -(this.clock.offsetMs ?? 0))
    this.engine.clockMoved().catch((err) => { this.engine.report('clock skew', err) })
  }

  private recordSkew (nodeId: string, aheadMs: number): void {
    if (!this.skews.record(nodeId, aheadMs)) return
    const who = nodeId === this.nodeId ? 'this node\'s' : `node ${this.cluster.nameOf(nodeId)}'s`
    this.log.warn({ event: 'clock-skew', nodeId, name: this.cluster.nameOf(nodeId), clockOffsetMs: aheadMs, warnMs: this.skews.warnMs }, `${who} clock is ${aheadMs} ms off the master's: fix its time sync (NTP)`)
  }

  private roleChanged (role: 'master' | 'slave' | 'candidate'): void {
    const masterId = this.election.masterId
    this.log.info({ event: 'role', role, term: this.election.term, masterId, masterName: masterId === null ? null : this.cluster.nameOf(masterId) }, `now ${role}`)
    if (role === 'master') {
      this.clock.lead()
      this.recordSkew(this.nodeId, 0)
      this.engine.clockMoved().catch((err) => { this.engine.report('clock skew', err) })
      this.engine.becameMaster().catch((err) => { this.engine.report('become master', err) })
    } else if (role === 'slave') {
      this.engine.followMaster()
    }
  }

  /** Records a peer's versions from identify; an incompatible peer is shown in status and hung up on. */
  private identified (peerId: PeerId, agentVersion: string | undefined): void {
    const versions = parseUserAgent(agentVersion)
    const id = peerId.toString()
    if (versions === null) {
      this.peers.set(id, peerInfo({ agentVersion: agentVersion ?? 'unknown', protocolVersion: 0, schemaVersion: 0 }, `not a spamsync agent (${agentVersion ?? 'no user agent'})`))
    } else {
      const reason = incompatibility(versions, this.config.strictVersion)
      this.peers.set(id, peerInfo(versions, reason))
      if (reason === null) return
    }
    if (!this.loggedRefusals.has(id)) {
      this.loggedRefusals.add(id)
      this.log.warn({ event: 'peer-refused', peerId: id, reason: this.peers.get(id)?.reason }, 'incompatible peer refused')
    }
    this.node.hangUp(peerId).catch((err) => { this.engine.report(`hang up on ${id}`, err) })
  }

  private dialPeer (peerId: PeerId): void {
    if (this.stopped || peerId.equals(this.node.peerId) || this.node.getConnections(peerId).length > 0) return
    if (this.peers.get(peerId.toString())?.compatible === false) return
    this.dial(peerId.toString(), peerId)
  }

  private dialAddrs (nodeId: string, addrs: Uint8Array[]): void {
    if (this.stopped) return
    const peerId = peerIdFromString(nodeId)
    if (this.node.getConnections(peerId).length > 0) return
    const mas = addrs.map(bytes => multiaddr(bytes))
    if (mas.length > 0) this.dial(nodeId, mas)
  }

  /** A member's own beacon: its announced addresses on a host its live connection shows go into the address book. */
  private rememberAddrs (nodeId: string, addrs: Uint8Array[]): void {
    const remote = this.node.getConnections(peerIdFromString(nodeId)).map(c => c.remoteAddr.toString())
    if (this.addressBook.met(nodeId, remote, addrs.map(a => multiaddr(a).toString()))) this.storeAddressBook()
  }

  private storeAddressBook (): void {
    this.state.store.write({ meta: { [META_KNOWN_PEERS]: this.addressBook.toJSON() } }).catch((err) => { this.engine.report('address book', err) })
  }

  private redial (): void {
    if (this.stopped) return
    if (this.addressBook.expire()) this.storeAddressBook()
    for (const [nodeId, addrs] of this.addressBook.members()) {
      let dial
      try {
        if (this.node.getConnections(peerIdFromString(nodeId)).length > 0) continue
        dial = addrs.map(a => multiaddr(a))
      } catch (err) {
        // A stored entry that no longer parses (a store written by hand): forget it, do not stop the timer.
        this.addressBook.delete(nodeId)
        this.storeAddressBook()
        this.engine.report('address book', err)
        continue
      }
      this.dial(nodeId, dial)
    }
    for (const addr of this.config.bootstrap) {
      const ma = multiaddr(addr)
      const id = ma.getComponents().find(c => c.name === 'p2p')?.value ?? null
      if (id !== null && this.node.getConnections(peerIdFromString(id)).length > 0) continue
      this.dial(id, ma)
    }
  }

  /**
   * Dials a peer (`nodeId`, when known). A peer that is down fails every redial, which is
   * expected: its failure is kept for its entry in status and logged at debug, not added to the
   * error log, which it would flood.
   */
  private dial (nodeId: string | null, to: PeerId | Multiaddr | Multiaddr[]): void {
    this.node.dial(to).then(() => {
      if (nodeId !== null) this.dialErrors.delete(nodeId)
    }, (err) => {
      const message = printable(errorMessage(err), PEER_TEXT_MAX)
      if (nodeId !== null) {
        // Newest last; a peer can introduce any number of made-up ids, so only the newest are kept.
        this.dialErrors.delete(nodeId)
        this.dialErrors.set(nodeId, { time: new Date().toISOString(), message })
        for (const old of this.dialErrors.keys()) {
          if (this.dialErrors.size <= MAX_DIAL_ERRORS) break
          this.dialErrors.delete(old)
        }
      }
      this.log.debug({ event: 'dial-failed', peerId: nodeId, to: String(to), err: message }, 'dial failed')
    })
  }

  /** Secrets on disk that group or others may open (checked on every call, logged once each). */
  private warnings (): string[] {
    const found = secretWarnings([
      { what: 'data folder', path: this.config.dataDir, folder: true },
      { what: 'cluster key', path: this.config.clusterKey },
      { what: 'control token', path: controlTokenPath(this.config.dataDir) }
    ])
    for (const w of found) {
      if (this.loggedWarnings.has(w)) continue
      this.loggedWarnings.add(w)
      this.log.warn({ event: 'file-mode' }, w)
    }
    return found
  }

  /** Rolls the lists back to a kept version: here when this node is master, else on the master. */
  async rollback (version: Version, dryRun = false): Promise<RollbackOutcome> {
    const { role, masterId } = this.election
    let made: RollbackOutcome
    if (role === 'master') {
      made = await this.engine.rollback(version, { dryRun })
    } else if (masterId === null) {
      throw new NoMasterError('no master is known yet (an election is under way); try again shortly')
    } else {
      made = await controlRequest(this.node, peerIdFromString(masterId), { hello: this.hello(), op: dryRun ? 'rollback-preview' : 'rollback', version })
    }
    if (made.version !== null) this.log.info({ event: 'rollback', to: formatVersion(version), version: formatVersion(made.version) }, 'lists rolled back')
    return made
  }

  /** A node's name when its beacons told it (the history keeps no id where a name belongs). */
  knownName (nodeId: string): string | undefined {
    const name = this.cluster.nameOf(nodeId)
    return name === nodeId ? undefined : name
  }

  private async syncNow (opts: { upload: boolean, download: boolean }): Promise<unknown> {
    const started = Date.now()
    if (opts.upload) {
      await this.engine.localChanged()
      await this.engine.bayesChanged()
      await this.engine.syncUpload()
    }
    if (opts.download) await this.engine.syncDownload()
    return { ok: true, ms: Date.now() - started, role: this.election.role, version: this.engine.version, appliedVersion: this.engine.appliedVersion, errors: this.engine.errors.slice(-5) }
  }

  /** This node as the cluster view sees it. */
  private selfSeen (): SelfSeen {
    const invalid = Object.fromEntries(LIST_DATASETS.map(ds => [ds, this.state.folder.invalid.get(ds)?.invalidCount ?? 0]))
    return {
      nodeId: this.nodeId,
      role: this.election.role,
      agentVersion: AGENT_VERSION,
      version: this.engine.version,
      appliedVersion: this.engine.appliedVersion,
      inputs: {
        lastUpload: this.engine.lastUpload?.time ?? null,
        lastDownload: this.engine.lastDownload?.time ?? null,
        errors: this.engine.errors,
        invalid,
        outputs: this.outputs?.status() ?? [],
        hooks: this.afterApply?.runs ?? null,
        startedAtMs: this.startedAt
      }
    }
  }

  /** The status document of `GET /status`. */
  status (): Record<string, unknown> {
    const members = new Map(this.election.members().map(m => [m.nodeId, m]))
    const ids = new Set([...members.keys(), ...this.peers.keys(), ...this.dialErrors.keys()])
    const peers = [...ids].sort().map(id => {
      const m = members.get(id)
      const p = this.peers.get(id)
      return {
        id,
        name: this.cluster.nameOf(id),
        role: m?.role ?? 'unknown',
        live: m?.live ?? false,
        agentVersion: p?.agentVersion ?? null,
        protocolVersion: p?.protocolVersion ?? null,
        compatible: p?.compatible ?? true,
        reason: p?.reason ?? null,
        appliedVersion: m?.appliedVersion ?? null,
        clockOffsetMs: this.skews.get(id),
        lastSeen: new Date(Math.max(m?.lastSeen ?? 0, p?.lastSeen ?? 0)).toISOString(),
        connected: this.node.getConnections(peerIdFromString(id)).length > 0,
        lastDialError: this.dialErrors.get(id) ?? null
      }
    })
    // Every node this one knows, itself first: name, role, lag, last sync, problems (cluster/health.ts).
    const cluster = this.cluster.table(this.selfSeen(), this.election.members())
    const datasets: Record<string, unknown> = {}
    for (const ds of LIST_DATASETS) {
      // fileError: why the file is left alone (a symlink out of the folder, too large), if it is.
      datasets[ds] = { entries: this.state.replica.presentCount(ds), ...this.state.folder.invalid.get(ds), fileError: this.state.folder.problem(ds) }
    }
    datasets.bayes = { entries: this.engine.bayesTokens, contributors: this.state.bayes.contributions().length, ...this.engine.bayesFileStatus() }
    return {
      nodeId: this.nodeId,
      name: this.cluster.name,
      agentVersion: AGENT_VERSION,
      protocolVersion: PROTOCOL_VERSION,
      schemaVersion: SCHEMA_VERSION,
      role: this.election.role,
      masterId: this.election.masterId,
      term: this.election.term,
      version: this.engine.version,
      appliedVersion: this.engine.appliedVersion,
      // This node's clock minus the master's (ms); null until a master's clock was heard.
      clockOffsetMs: this.clock.offsetMs === null ? null : -this.clock.offsetMs,
      listen: this.node.getMultiaddrs().map(ma => ma.toString()),
      peers,
      cluster,
      // One line over the cluster (the CLI computes the same from `cluster`).
      summary: clusterSummary(cluster),
      datasets,
      bytesSent: this.traffic.bytesSent,
      bytesReceived: this.traffic.bytesReceived,
      // Of bytesSent: answers to other nodes' fetches (what fan-out spreads over the peers).
      fetchBytesServed: this.traffic.fetchBytesServed,
      // The full archive this node passes on to peers (fan-out), or null.
      fullArchive: this.fullArchiveStatus(),
      lastUpload: this.engine.lastUpload,
      lastDownload: this.engine.lastDownload,
      // The upload or fetch in flight ({direction, bytesDone, bytesTotal}), for `spamsync sync` progress.
      transfer: this.transfer.current,
      outputs: this.outputs?.status() ?? [],
      errors: this.engine.errors,
      // Secrets on disk that group or others may open (file-modes.ts).
      warnings: this.warnings(),
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000)
    }
  }
}
