/**
 * A whole spamsync cluster in one process, on a fake network and a virtual clock, to see how
 * the design scales past what one machine can run as real processes (protocol/scale.md).
 *
 * What is production code, run as is:
 * - the election (src/election/state.ts `Election`), one per node, ticked every heartbeat at a
 *   per-node phase, fed every beacon it would hear;
 * - the beacon bytes (src/pb/spamsync.ts `Beacon.encode`/`decode`), with the fields src/agent.ts
 *   fills in (ids of libp2p's length, two listen addresses, the held full archive), so the bytes
 *   counted are the bytes a real agent writes;
 * - the fan-out (src/sync/fan-out.ts `ArchiveOffer`, `FanOutFetcher`): who is sent a full
 *   archive, who is told BUSY, who fetches from which peer.
 *
 * What is modelled after the code (src/agent.ts, src/protocol/beacon-link.ts, src/sync/engine.ts
 * import libp2p, LevelDB and the file system, so they cannot run here): every heartbeat a node
 * sends its beacon straight to every connected peer; a member heard again after more than
 * INTRODUCE_AFTER_MS is introduced to every other linked peer; a slave that hears the master
 * announce a newer version fetches; the master answers a fetch from its own term with a delta
 * at once and anything else with its full archive through the fan-out; a node that fetched a
 * full archive holds it and announces it before it applies it; a slave that follows a new
 * master uploads its full state, which the master merges one upload at a time (its queue); a
 * change on a slave is uploaded as a delta, merged, and cut as a version that the master
 * announces at once. CPU work (scan, merge, build, apply) takes a fixed time per kind, taken
 * from bench/RESULTS.md, on a per-node queue; bulk bytes take size / bandwidth on the sender's
 * egress and the receiver's ingress, one transfer after the other; every message takes its
 * link's latency.
 *
 * Pure: no libp2p, no file system, no wall clock; the same seed gives the same run.
 */
import { Election, DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_MISSED_HEARTBEATS, type Beacon as ElectionBeacon, type Role as ElectionRole } from '../../src/election/state.js'
import { ArchiveOffer, FanOutFetcher, type FetchAnswer } from '../../src/sync/fan-out.js'
import { sameArchive, type ArchiveRef } from '../../src/protocol/archive-ref.js'
import { Beacon, Pin, Role, Status } from '../../src/pb/spamsync.js'
import { AGENT_VERSION, PROTOCOL_VERSION, SCHEMA_VERSION } from '../../src/constants.js'
import { compareVersions, ZERO_VERSION, type Version } from '../../src/version.js'
import { EventQueue, pairUniform, prng } from './events.js'

/** As src/agent.ts: a member heard again after this long is introduced to the linked peers. */
export const INTRODUCE_AFTER_MS = 3 * DEFAULT_HEARTBEAT_INTERVAL_MS

/** What the design is held to (issue 17): per-node beacon traffic, and a change on every node. */
export const SCALE_TARGETS = {
  beaconBytesPerNodePerS: 1024,
  changeOnAllMs: 2000
} as const

/** Distinct link latencies between the minimum and the maximum (0.1 ms apart at 0.2-1 ms). */
export const LATENCY_STEPS = 9

/**
 * Bytes a beacon frame costs on the wire beyond its length-prefixed protobuf: a yamux header
 * (12), a Noise frame (2-byte length, 16-byte tag) and TCP/IPv4 headers (40), one segment per frame.
 */
export const FRAME_OVERHEAD_BYTES = 12 + 2 + 16 + 40

/** Work times and sizes of the model; the defaults come from bench/RESULTS.md (121,570-line list). */
export interface SimCosts {
  /** The watcher's debounce before a change is scanned (bench/cluster.ts runs with 50 ms). */
  debounceMs: number
  /** Scan of the changed file and build of the delta upload, on the origin's queue. */
  scanMs: number
  /** Merge of a delta upload and the version cut, on the master's queue. */
  mergeDeltaMs: number
  /**
   * Answering one delta fetch on the master: the fetch stream (Noise, yamux, protobuf), the
   * delta read and its archive; outside its queue, as serveFetch, but one after the other.
   */
  serveDeltaMs: number
  /** Merge and file write of a delta on a slave. */
  applyDeltaMs: number
  /** Building the full archive on the master (exportInProcess: 255 ms). */
  buildFullMs: number
  /** Applying a full archive on a slave (importInProcess: 569 ms). */
  applyFullMs: number
  /** Building a slave's full upload (as buildFullMs). */
  exportFullMs: number
  /** Merging one full upload on the master (importInProcess.merge: 305 ms). */
  mergeFullMs: number
  /** Delta upload of one line. */
  uploadDeltaBytes: number
  /** Delta answer of one line (master sent / receiver: 753 B). */
  deltaBytes: number
  /** Full archive of the 121,570-line list (1,098,508 B). */
  fullArchiveBytes: number
  /** A fetch or upload request and its small answer. */
  requestBytes: number
}

export const DEFAULT_COSTS: SimCosts = {
  debounceMs: 50,
  scanMs: 10,
  mergeDeltaMs: 10,
  serveDeltaMs: 2,
  applyDeltaMs: 10,
  buildFullMs: 255,
  applyFullMs: 569,
  exportFullMs: 255,
  mergeFullMs: 305,
  uploadDeltaBytes: 600,
  deltaBytes: 753,
  fullArchiveBytes: 1_098_508,
  requestBytes: 200
}

/** One simulated cluster's settings. */
export interface SimOptions {
  nodes: number
  seed?: number
  /** One-way latency of a link, uniform between these (fixed per link). */
  latencyMinMs?: number
  latencyMaxMs?: number
  /** Each node's egress and ingress, bytes per ms (125,000 = 1 Gbit/s). */
  bandwidthBytesPerMs?: number
  /** Listen addresses in each beacon (loopback and one LAN address). */
  addrsPerNode?: number
  fanOut?: boolean
  costs?: Partial<SimCosts>
}

/** Beacon traffic of one node over a window. */
interface Counters {
  beaconFrames: number
  beaconBytes: number
  introFrames: number
  introBytes: number
  /** Bytes of archives and deltas this node served (fetch answers). */
  servedBytes: number
  servedFull: number
  /** Bytes of uploads this node received. */
  uploadBytesIn: number
  /** Full uploads that reached this node (each is then merged on its queue). */
  fullUploadsIn: number
}

const zeroCounters = (): Counters => ({ beaconFrames: 0, beaconBytes: 0, introFrames: 0, introBytes: 0, servedBytes: 0, servedFull: 0, uploadBytesIn: 0, fullUploadsIn: 0 })

const ROLE_TO_PB = { candidate: Role.CANDIDATE, slave: Role.SLAVE, master: Role.MASTER } as const
const ROLE_FROM_PB = { [Role.CANDIDATE]: 'candidate', [Role.SLAVE]: 'slave', [Role.MASTER]: 'master' } as const
const PIN_TO_PB = { auto: Pin.AUTO, master: Pin.PINNED_MASTER, slave: Pin.PINNED_SLAVE } as const
const PIN_FROM_PB = { [Pin.AUTO]: 'auto', [Pin.PINNED_MASTER]: 'master', [Pin.PINNED_SLAVE]: 'slave' } as const

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** A peer id string of an Ed25519 libp2p key's length and alphabet (12D3KooW + 44 characters). */
function fakePeerId (random: () => number): string {
  let s = '12D3KooW'
  for (let i = 0; i < 44; i++) s += BASE58[Math.floor(random() * 58)]
  return s
}

/** A multiaddr's bytes as libp2p encodes /ip4/a.b.c.d/tcp/4737/p2p/<38-byte peer id>: 49 bytes. */
function fakeAddr (ip: number[], random: () => number): Uint8Array<ArrayBuffer> {
  const id = Array.from({ length: 36 }, () => Math.floor(random() * 256))
  return new Uint8Array([0x04, ...ip, 0x06, 0x12, 0x81, 0xa5, 0x03, 38, 0x00, 36, ...id])
}

/** A beacon as sent: its bytes, decoded once for all receivers (every receiver decodes the same bytes). */
interface Frame {
  bytes: Uint8Array
  decoded: Beacon | null
  /** The decoded beacon as src/agent.ts hands it to the election (Election.receive copies it). */
  forElection: ElectionBeacon | null
  /** The full archive it announces. */
  archive: ArchiveRef | undefined
}

/** Length of the varint length prefix of a frame of `n` bytes. */
function prefixLength (n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : 3
}

/** A change followed from its edit to every node. */
interface Trial {
  origin: number
  startedAt: number
  /** The master merged the origin's upload of it (a slave's change). */
  merged: boolean
  /** The version the master cut with it; null until then. */
  version: Version | null
  /** When each node had it (the origin at once). */
  doneAt: Map<number, number>
}

class SimNode {
  election!: Election
  alive = true
  applied: Version = ZERO_VERSION
  central: Version = ZERO_VERSION
  announced: Version = ZERO_VERSION
  offer = new ArchiveOffer()
  fetcher!: FanOutFetcher
  /** The term file: kept across a restart. */
  persistedTerm = 0
  /** The full archive each peer's last beacon announced. */
  readonly heldBy = new Map<number, ArchiveRef>()
  /** When each peer's last direct beacon came (introductions). */
  readonly lastDirect: Float64Array
  /** This node's engine queue is busy until then. */
  queueFreeAt = 0
  /** Work outside the queue (serving fetches) shares the one JS thread: busy until then. */
  serveFreeAt = 0
  egressFreeAt = 0
  ingressFreeAt = 0
  fetching = false
  uploading = false
  uploadAgain = false
  uploadFailed = false
  /** Master and term the last full upload went to. */
  uploadAck: { master: number, term: number } | null = null
  /** Own changes not yet uploaded. */
  pendingChanges = 0
  /** Master side: the full archive being built, shared by the fetches that wait for it. */
  building: Promise<void> | null = null
  counters = zeroCounters()

  constructor (readonly cluster: SimCluster, readonly index: number, readonly id: string, readonly addrs: Array<Uint8Array<ArrayBuffer>>) {
    this.lastDirect = new Float64Array(cluster.size)
    this.boot()
  }

  /** A process start: a new election from the persisted term, no archive held, no peer heard yet. */
  private boot (): void {
    const cluster = this.cluster
    const q = cluster.queue
    this.election = new Election({
      nodeId: this.id,
      priority: 0,
      pin: 'auto',
      term: this.persistedTerm,
      clock: () => q.now,
      transport: {
        publish: (b) => { this.publish(b) },
        connected: (nodeId) => cluster.byId(nodeId)?.alive === true,
        connectedAny: () => cluster.nodes.some(n => n !== this && n.alive)
      },
      events: {
        persistTerm: (term) => { this.persistedTerm = term },
        onRoleChange: (role) => { this.roleChanged(role) },
        onUploadFullState: () => { this.requestUpload() }
      },
      version: () => this.election.role === 'master' ? this.central : this.applied,
      appliedVersion: () => this.election.role === 'master' ? this.central : this.applied
    })
    this.fetcher = new FanOutFetcher(this.id, {
      fetch: async (peerId, since, want, archive) => await cluster.fetch(this, cluster.index(peerId), since, want, archive),
      holders: (archive) => this.holders(archive),
      awaited: (nodeId, archive) => this.awaited(nodeId, archive),
      onPeerFailed: () => { cluster.peerFailures++ }
    }, () => q.now)
  }

  /**
   * The killed process started again: the versions and the term it persisted stay; it holds no
   * archive, and has heard no member yet, so it introduces every member it hears (agent.ts
   * keeps its last beacons in memory only).
   */
  restart (): void {
    this.alive = true
    this.offer = new ArchiveOffer()
    this.heldBy.clear()
    this.lastDirect.fill(-Infinity)
    this.queueFreeAt = this.serveFreeAt = this.egressFreeAt = this.ingressFreeAt = this.cluster.queue.now
    this.boot()
  }

  get isMaster (): boolean {
    return this.election.role === 'master'
  }

  /** The master this node follows, as an index, or -1. */
  get masterIndex (): number {
    const m = this.election.masterId
    return m === null ? -1 : this.cluster.index(m)
  }

  // ---- beacons (src/agent.ts publish/beaconFrom/received, src/protocol/beacon-link.ts send/introduce) ----

  private publish (b: ElectionBeacon): void {
    if (!this.alive) return
    const bytes = Beacon.encode({
      nodeId: b.nodeId,
      priority: b.priority,
      role: ROLE_TO_PB[b.role],
      term: b.term,
      masterId: b.masterId ?? '',
      version: b.version,
      appliedVersion: b.appliedVersion,
      protocolVersion: PROTOCOL_VERSION,
      schemaVersion: SCHEMA_VERSION,
      agentVersion: AGENT_VERSION,
      pin: PIN_TO_PB[b.pin],
      addrs: this.addrs,
      fullArchive: this.cluster.fanOut ? this.offer.held?.ref ?? undefined : undefined,
      wallMs: this.cluster.wallBase + this.cluster.queue.now
    })
    const frame: Frame = { bytes, decoded: null, forElection: null, archive: undefined }
    const size = bytes.byteLength + prefixLength(bytes.byteLength)
    const nodes = this.cluster.nodes
    // One event per latency step, not per receiver: a 1,000-node cluster sends a million beacons a second.
    for (const [step, peers] of this.cluster.peersByLatency(this.index).entries()) {
      let sent = 0
      for (const p of peers) if (nodes[p].alive) sent++
      if (sent === 0) continue
      this.counters.beaconFrames += sent
      this.counters.beaconBytes += sent * size
      this.cluster.queue.after(this.cluster.latencyOfStep(step), () => {
        for (const p of peers) nodes[p].beaconFrom(this, frame)
      })
    }
  }

  private beaconFrom (from: SimNode, frame: Frame): void {
    if (!this.alive) return
    let b = frame.decoded
    if (b === null) {
      b = frame.decoded = Beacon.decode(frame.bytes)
      frame.forElection = {
        nodeId: b.nodeId,
        priority: b.priority,
        pin: PIN_FROM_PB[b.pin],
        role: ROLE_FROM_PB[b.role],
        term: b.term,
        masterId: b.masterId === '' ? null : b.masterId,
        version: b.version ?? ZERO_VERSION,
        appliedVersion: b.appliedVersion ?? ZERO_VERSION
      }
      const a = b.fullArchive
      frame.archive = a?.version === undefined ? undefined : { version: a.version, size: a.size, sha256: a.sha256 }
    }
    const now = this.cluster.queue.now
    const before = this.lastDirect[from.index]
    this.lastDirect[from.index] = now
    if (now - before > INTRODUCE_AFTER_MS) this.introduce(from, frame)
    this.election.receive(frame.forElection as ElectionBeacon)
    if (b.role === Role.MASTER && b.nodeId === this.election.masterId && b.version !== undefined) this.masterAnnounced(b.version)
    this.heldChanged(from.index, frame.archive)
  }

  /**
   * Passes a member's beacon on to every other linked peer. Counted, not delivered: in a full
   * mesh the receiver is already connected to that member, and an introduction only makes it dial.
   */
  private introduce (author: SimNode, frame: Frame): void {
    const size = frame.bytes.byteLength + prefixLength(frame.bytes.byteLength)
    for (const peer of this.cluster.nodes) {
      if (peer === this || peer === author || !peer.alive) continue
      this.counters.introFrames++
      this.counters.introBytes += size
    }
  }

  private heldChanged (peer: number, ref: ArchiveRef | undefined): void {
    const before = this.heldBy.get(peer)
    if (ref === undefined) {
      this.heldBy.delete(peer)
      return
    }
    this.heldBy.set(peer, ref)
    if (before === undefined || !sameArchive(before, ref)) {
      const awaiting = this.fetcher.awaiting
      if (awaiting !== null && sameArchive(awaiting, ref) && this.election.role === 'slave') this.requestFetch()
    }
  }

  private liveAt = -1
  private liveIds = new Set<string>()

  /** The live members, computed once per virtual instant (holders() is asked on every announcement). */
  private live (): Set<string> {
    const now = this.cluster.queue.now
    if (this.liveAt !== now) {
      this.liveIds = new Set(this.election.members().filter(m => m.live).map(m => m.nodeId))
      this.liveAt = now
    }
    return this.liveIds
  }

  private holders (archive: ArchiveRef): string[] {
    const live = this.live()
    const out: string[] = []
    for (const [i, ref] of this.heldBy) {
      const id = this.cluster.nodes[i].id
      if (live.has(id) && sameArchive(ref, archive)) out.push(id)
    }
    return out
  }

  private awaited (nodeId: string, archive: ArchiveRef): boolean {
    const m = this.election.members().find(m => m.nodeId === nodeId)
    if (m === undefined) return true
    if (!m.live) return false
    const held = this.heldBy.get(this.cluster.index(nodeId))
    return (held === undefined || !sameArchive(held, archive)) && compareVersions(m.appliedVersion, archive.version) < 0
  }

  // ---- the engine's plan (src/sync/engine.ts) ----

  heartbeat (): void {
    if (!this.alive) return
    this.election.tick()
    if (this.uploadFailed) this.requestUpload()
    if (this.election.role === 'slave' && compareVersions(this.announced, this.applied) > 0) this.requestFetch()
  }

  /** Runs `ms` of work on this node's queue; resolves when it is done. */
  async work (ms: number): Promise<void> {
    const q = this.cluster.queue
    const start = Math.max(q.now, this.queueFreeAt)
    this.queueFreeAt = start + ms
    const done = q.promise<void>()
    q.at(this.queueFreeAt, () => { done.resolve() })
    await done.promise
  }

  private roleChanged (role: ElectionRole): void {
    if (!this.cluster.syncOn) return
    if (role === 'master') {
      this.cluster.queue.touch()
      this.becameMaster().catch(() => { this.cluster.errors++ })
    } else if (role === 'slave') this.requestUpload()
  }

  private async becameMaster (): Promise<void> {
    await this.work(this.cluster.costs.mergeDeltaMs)
    if (this.isMaster) this.cutVersion()
  }

  /** Numbers a new version and tells the cluster at once. */
  cutVersion (): Version {
    const term = this.election.term
    this.central = { term, seq: this.central.term === term ? this.central.seq + 1 : 1 }
    this.cluster.versionCut(this)
    this.election.announce()
    return this.central
  }

  masterAnnounced (version: Version): void {
    if (compareVersions(version, this.announced) > 0) this.announced = version
    if (this.election.role === 'slave' && compareVersions(this.announced, this.applied) > 0) this.requestFetch()
  }

  requestFetch (): void {
    if (this.fetching || !this.alive || !this.cluster.syncOn) return
    this.fetching = true
    this.cluster.queue.touch()
    this.fetchOnce().catch(() => { this.cluster.errors++ }).finally(() => { this.fetching = false })
  }

  private async fetchOnce (): Promise<void> {
    for (;;) {
      const master = this.masterIndex
      if (this.election.role !== 'slave' || master < 0 || !this.alive) return
      if (compareVersions(this.announced, this.applied) <= 0) return
      const got = await this.fetcher.fetch(this.cluster.nodes[master].id, this.applied, this.announced)
      if (got === null || !this.alive) return
      const answer = got.answer
      if (answer.status === Status.UP_TO_DATE) return
      if (answer.status !== Status.OK || answer.version === undefined) throw new Error(`fetch refused: ${answer.reason}`)
      if (this.cluster.fanOut && answer.full === true && answer.archive !== undefined && answer.zip !== undefined) {
        this.offer.hold(answer.zip, answer.archive)
        this.election.announce()
      }
      await this.work(answer.full === true ? this.cluster.costs.applyFullMs : this.cluster.costs.applyDeltaMs)
      if (compareVersions(answer.version, this.applied) > 0) {
        this.applied = answer.version
        this.cluster.applied(this)
      }
    }
  }

  /** An operator's edit: scanned after the debounce, then cut (master) or uploaded (slave). */
  edit (): void {
    const q = this.cluster.queue
    q.after(this.cluster.costs.debounceMs, () => {
      q.touch()
      this.work(this.cluster.costs.scanMs).then(() => {
        if (this.isMaster) this.cutVersion()
        else {
          this.pendingChanges++
          this.requestUpload()
        }
      }, () => { this.cluster.errors++ })
    })
  }

  requestUpload (): void {
    if (!this.cluster.syncOn) return
    if (this.uploading) {
      this.uploadAgain = true
      return
    }
    this.uploading = true
    this.cluster.queue.touch()
    this.uploadLoop().finally(() => { this.uploading = false })
  }

  private async uploadLoop (): Promise<void> {
    do {
      this.uploadAgain = false
      try {
        await this.uploadOnce()
        this.uploadFailed = false
      } catch {
        this.uploadFailed = true
        return
      }
    } while (this.uploadAgain)
  }

  private async uploadOnce (): Promise<void> {
    const master = this.masterIndex
    const term = this.election.term
    if (this.election.role !== 'slave' || master < 0 || !this.alive) return
    const full = this.uploadAck === null || this.uploadAck.master !== master || this.uploadAck.term !== term
    if (!full && this.pendingChanges === 0) return
    const changes = this.pendingChanges
    if (full) await this.work(this.cluster.costs.exportFullMs)
    const version = await this.cluster.upload(this, master, full, changes > 0)
    this.pendingChanges -= changes
    this.uploadAck = { master, term }
    this.masterAnnounced(version)
  }
}

/** A simulated cluster; see the file comment. */
export class SimCluster {
  readonly queue = new EventQueue()
  readonly nodes: SimNode[]
  readonly size: number
  readonly costs: SimCosts
  readonly fanOut: boolean
  /** Wall-clock milliseconds at virtual time 0, for the beacon's wallMs field (any fixed value). */
  readonly wallBase = 1_800_000_000_000
  /** Off during the warm-up (the election alone); settle() turns it on. */
  syncOn = false
  errors = 0
  peerFailures = 0
  private readonly ids = new Map<string, number>()
  private readonly seed: number
  private readonly latMin: number
  private readonly latSpan: number
  private readonly bandwidth: number
  private trial: Trial | null = null

  constructor (opts: SimOptions) {
    if (!(Number.isSafeInteger(opts.nodes) && opts.nodes >= 2)) throw new RangeError(`nodes must be an integer >= 2, got ${opts.nodes}`)
    this.size = opts.nodes
    this.seed = opts.seed ?? 1
    this.latMin = opts.latencyMinMs ?? 0.2
    this.latSpan = (opts.latencyMaxMs ?? 1) - this.latMin
    this.bandwidth = opts.bandwidthBytesPerMs ?? 125_000
    this.fanOut = opts.fanOut ?? true
    this.costs = { ...DEFAULT_COSTS, ...opts.costs }
    const random = prng(this.seed)
    const addrs = opts.addrsPerNode ?? 2
    this.nodes = []
    for (let i = 0; i < this.size; i++) {
      const id = fakePeerId(random)
      const ip = [[127, 0, 0, 1], [10, (i >> 16) & 255, (i >> 8) & 255, i & 255]]
      const node = new SimNode(this, i, id, Array.from({ length: addrs }, (_, k) => fakeAddr(ip[Math.min(k, 1)], random)))
      this.ids.set(id, i)
      this.nodes.push(node)
    }
    // Heartbeats at a random phase per node, as each agent's setInterval started when it did.
    for (const node of this.nodes) this.startBeats(node, random() * DEFAULT_HEARTBEAT_INTERVAL_MS)
  }

  /** Starts `node`'s election at `at` and its heartbeat every interval after, while it lives. */
  private startBeats (node: SimNode, at: number): void {
    this.queue.at(at, () => {
      node.election.start()
      const election = node.election
      const beat = (): void => {
        if (!node.alive || node.election !== election) return
        node.heartbeat()
        this.queue.after(DEFAULT_HEARTBEAT_INTERVAL_MS, beat)
      }
      this.queue.after(DEFAULT_HEARTBEAT_INTERVAL_MS, beat)
    })
  }

  /** Starts killed node `i` again now. */
  restart (i: number): void {
    const node = this.nodes[i]
    if (node.alive) throw new Error(`node ${i} is running`)
    node.restart()
    this.startBeats(node, this.queue.now)
  }

  index (id: string): number {
    const i = this.ids.get(id)
    if (i === undefined) throw new Error(`unknown node ${id}`)
    return i
  }

  byId (id: string): SimNode | undefined {
    const i = this.ids.get(id)
    return i === undefined ? undefined : this.nodes[i]
  }

  /** One-way latency of the link between two nodes, fixed for the seed, in LATENCY_STEPS steps. */
  latency (a: number, b: number): number {
    return this.latencyOfStep(this.latencyStep(a, b))
  }

  latencyOfStep (step: number): number {
    return this.latMin + this.latSpan * step / (LATENCY_STEPS - 1)
  }

  private latencyStep (a: number, b: number): number {
    return Math.floor(pairUniform(Math.min(a, b), Math.max(a, b), this.seed) * LATENCY_STEPS)
  }

  private readonly byLatency: Int32Array[][] = []

  /** The other nodes by the latency step of their link to `i` (built once per node). */
  peersByLatency (i: number): Int32Array[] {
    let groups = this.byLatency[i]
    if (groups === undefined) {
      const lists: number[][] = Array.from({ length: LATENCY_STEPS }, () => [])
      for (let j = 0; j < this.size; j++) if (j !== i) lists[this.latencyStep(i, j)].push(j)
      groups = lists.map(l => Int32Array.from(l))
      this.byLatency[i] = groups
    }
    return groups
  }

  /**
   * When `bytes` sent now from `from` arrive at `to`. The sender's link carries them in
   * size / bandwidth after what it sends already; the receiver's link takes what arrives one
   * transfer after the other, so a master that many upload to is slow to receive, while each
   * uploader's own link stays free for other sends (as TCP shares a link between connections).
   */
  private transfer (from: SimNode, to: SimNode, bytes: number): number {
    const t = bytes / this.bandwidth
    const sent = Math.max(this.queue.now, from.egressFreeAt) + t
    from.egressFreeAt = sent
    const received = Math.max(sent, to.ingressFreeAt + t)
    to.ingressFreeAt = received
    return received + this.latency(from.index, to.index)
  }

  /** The live nodes. */
  alive (): SimNode[] {
    return this.nodes.filter(n => n.alive)
  }

  /** Live nodes, counted without building a list (checked after every event). */
  aliveCount (): number {
    let k = 0
    for (const n of this.nodes) if (n.alive) k++
    return k
  }

  /** The master every live node follows, when they all agree on one live master in one term; else null. */
  agreedMaster (): SimNode | null {
    let m: string | null | undefined
    let term = 0
    for (const n of this.nodes) {
      if (!n.alive) continue
      if (m === undefined) {
        m = n.election.masterId
        term = n.election.term
        if (m === null) return null
      } else if (n.election.masterId !== m || n.election.term !== term) return null
    }
    const master = m == null ? undefined : this.byId(m)
    if (master === undefined || !master.alive || !master.isMaster) return null
    for (const n of this.nodes) if (n.alive && n !== master && n.election.role !== 'slave') return null
    return master
  }

  /** Every live node has applied the master's current version. */
  converged (): boolean {
    const master = this.agreedMaster()
    if (master === null || master.central.term === 0) return false
    for (const n of this.nodes) if (n.alive && n !== master && compareVersions(n.applied, master.central) < 0) return false
    return true
  }

  resetCounters (): void {
    for (const n of this.nodes) n.counters = zeroCounters()
  }

  async runFor (ms: number, stop?: () => boolean): Promise<void> {
    await this.queue.runUntil(this.queue.now + ms, stop)
  }

  /** Runs until `done()` holds (checked after every event) or `timeoutMs` passed; the time it took, or null. */
  async until (done: () => boolean, timeoutMs: number): Promise<number | null> {
    const t0 = this.queue.now
    if (done()) return 0
    await this.queue.runUntil(t0 + timeoutMs, done)
    return done() ? this.queue.now - t0 : null
  }

  /** A line added on `origin`; resolves with the trial once every live node has it (or at the timeout). */
  async change (origin: number, timeoutMs: number): Promise<Trial> {
    const trial: Trial = { origin, startedAt: this.queue.now, merged: false, version: null, doneAt: new Map([[origin, this.queue.now]]) }
    this.trial = trial
    this.nodes[origin].edit()
    await this.until(() => trial.doneAt.size >= this.aliveCount(), timeoutMs)
    this.trial = null
    return trial
  }

  kill (i: number): void {
    this.nodes[i].alive = false
  }

  /** The master cut a version: the running trial's change is in it once its upload was merged. */
  versionCut (master: SimNode): void {
    const t = this.trial
    if (t === null || t.version !== null) return
    if (t.origin === master.index || t.merged) {
      t.version = master.central
      t.doneAt.set(master.index, this.queue.now)
    }
  }

  /** A node applied a version. */
  applied (node: SimNode): void {
    const t = this.trial
    if (t?.version != null && !t.doneAt.has(node.index) && compareVersions(node.applied, t.version) >= 0) t.doneAt.set(node.index, this.queue.now)
  }

  /** An upload from `from` to `masterIndex`: merged on the master's queue, a version cut when it changed something. */
  async upload (from: SimNode, masterIndex: number, full: boolean, changed: boolean): Promise<Version> {
    const master = this.nodes[masterIndex]
    const bytes = full ? this.costs.fullArchiveBytes : this.costs.uploadDeltaBytes
    const q = this.queue
    const arrived = q.promise<void>()
    q.at(this.transfer(from, master, bytes), () => { arrived.resolve() })
    await arrived.promise
    if (!master.alive) throw new Error('master gone')
    master.counters.uploadBytesIn += bytes
    if (full) master.counters.fullUploadsIn++
    await master.work(full ? this.costs.mergeFullMs : this.costs.mergeDeltaMs)
    if (!master.alive || !master.isMaster) throw new Error('no longer master')
    if (changed && this.trial?.origin === from.index) this.trial.merged = true
    const version = changed ? master.cutVersion() : master.central
    const answered = q.promise<void>()
    q.after(this.latency(master.index, from.index), () => { answered.resolve() })
    await answered.promise
    return version
  }

  /** The archive the master serves for a version: one per version, its bytes shared by every holder. */
  private readonly archives = new Map<string, { ref: ArchiveRef, zip: Uint8Array }>()

  private archiveOf (v: Version): { ref: ArchiveRef, zip: Uint8Array } {
    const key = `${v.term}.${v.seq}`
    let a = this.archives.get(key)
    if (a === undefined) {
      const sha = new Uint8Array(32)
      new DataView(sha.buffer).setFloat64(0, v.term)
      new DataView(sha.buffer).setFloat64(8, v.seq)
      a = { ref: { version: v, size: this.costs.fullArchiveBytes, sha256: sha }, zip: new Uint8Array(1) }
      this.archives.set(key, a)
    }
    return a
  }

  /** A fetch from `from` to node `to` (src/sync/engine.ts serveFetch / serveFull / serveHeld). */
  async fetch (from: SimNode, to: number, since: Version, _want: Version, named?: ArchiveRef): Promise<FetchAnswer> {
    const server = this.nodes[to]
    const q = this.queue
    const asked = q.promise<void>()
    q.after(this.latency(from.index, to), () => { asked.resolve() })
    await asked.promise
    if (!server.alive) throw new Error(`${server.id} is gone`)
    let answer: FetchAnswer
    let bytes = this.costs.requestBytes
    let release: (() => void) | null = null
    if (!server.isMaster) {
      const held = this.fanOut ? server.offer.held : null
      if (named === undefined || held === null || !sameArchive(named, held.ref)) answer = { status: Status.REFUSED, reason: 'not held', sources: [] }
      else {
        release = server.offer.take(from.id, false)
        answer = release === null
          ? { status: Status.BUSY, reason: 'busy', archive: held.ref, sources: [], version: held.ref.version }
          : { status: Status.OK, reason: '', full: true, archive: held.ref, version: held.ref.version, zip: held.zip, sources: [] }
      }
    } else if (compareVersions(since, server.central) >= 0) {
      answer = { status: Status.UP_TO_DATE, reason: '', version: server.central, sources: [] }
    } else if (since.term === server.central.term && since.seq > 0) {
      await this.serving(server, this.costs.serveDeltaMs)
      answer = { status: Status.OK, reason: '', full: false, version: server.central, sources: [] }
      bytes = this.costs.deltaBytes
    } else {
      const held = await this.masterArchive(server)
      const isNamed = named !== undefined && sameArchive(named, held.ref)
      release = this.fanOut ? server.offer.take(from.id, !isNamed) : () => {}
      answer = release === null
        ? { status: Status.BUSY, reason: 'busy', archive: held.ref, version: held.ref.version, sources: server.offer.sources }
        : { status: Status.OK, reason: '', full: true, archive: held.ref, version: held.ref.version, zip: held.zip, sources: [] }
    }
    if (answer.status === Status.OK) {
      bytes = answer.full === true ? this.costs.fullArchiveBytes : this.costs.deltaBytes
      server.counters.servedBytes += bytes
      if (answer.full === true) server.counters.servedFull++
    }
    const arrived = q.promise<void>()
    q.at(this.transfer(server, from, bytes), () => {
      release?.()
      arrived.resolve()
    })
    await arrived.promise
    return answer
  }

  /** `ms` of serving on `server`, after the serving it already does (one thread: the master answers fetches one after the other). */
  private async serving (server: SimNode, ms: number): Promise<void> {
    server.serveFreeAt = Math.max(this.queue.now, server.serveFreeAt) + ms
    const p = this.queue.promise<void>()
    this.queue.at(server.serveFreeAt, () => { p.resolve() })
    await p.promise
  }

  private async busyFor (ms: number): Promise<void> {
    const p = this.queue.promise<void>()
    this.queue.after(ms, () => { p.resolve() })
    await p.promise
  }

  /** The master's full archive of its current version, built once (as masterArchive). */
  private async masterArchive (master: SimNode): Promise<{ ref: ArchiveRef, zip: Uint8Array }> {
    for (;;) {
      const held = master.offer.held
      if (held !== null && held.ref.version.term === master.central.term) return held
      if (master.building === null) {
        const version = master.central
        master.building = this.busyFor(this.costs.buildFullMs).then(() => {
          const a = this.archiveOf(version)
          master.offer.hold(a.zip, a.ref)
          master.building = null
        })
      }
      await master.building
    }
  }

  /** Every live node holds the master's current version, without the warm-up's transfers: a cluster that has run a while. */
  settle (): void {
    const master = this.agreedMaster()
    if (master === null) throw new Error('no agreed master to settle on')
    if (master.central.term === 0) master.central = { term: master.election.term, seq: 1 }
    const a = this.archiveOf(master.central)
    master.offer.hold(a.zip, a.ref)
    for (const n of this.alive()) {
      n.applied = master.central
      n.announced = master.central
      if (n !== master) n.uploadAck = { master: master.index, term: master.election.term }
    }
    this.syncOn = true
  }
}
