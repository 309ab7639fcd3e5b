/** One simulated node: the production election and fan-out, driven by the model of the agent's beacon link and sync engine (see sim/cluster.ts). */
import { relayTargets } from '../../src/election/relay-tree.js'
import type { HeartbeatPace } from '../../src/election/heartbeat-pace.js'
import { Election, type Beacon as ElectionBeacon, type Role as ElectionRole } from '../../src/election/state.js'
import { ArchiveOffer, FanOutFetcher, type FetchAnswer } from '../../src/sync/fan-out.js'
import { sameArchive, type ArchiveRef } from '../../src/protocol/archive-ref.js'
import { Beacon, Role, Status } from '../../src/pb/spamsync.js'
import { encodeBeacon, wirePeriod } from '../../src/protocol/beacon-wire.js'
import { compareVersions, ZERO_VERSION, type Version } from '../../src/version.js'
import type { EventQueue } from './events.js'
import { MemberViews } from './member-views.js'
import { type Frame, type SimCosts, INTRODUCE_AFTER_MS, SIGNATURE_TAIL, decodeFrame, prefixLength, zeroCounters } from './model.js'

/** What a node asks of its cluster (SimCluster): the clock and queue, the other nodes, the links and the master's work. */
export interface SimNetwork {
  readonly queue: EventQueue
  readonly nodes: SimNode[]
  readonly size: number
  readonly costs: SimCosts
  readonly fanOut: boolean
  readonly relay: boolean
  readonly wallBase: number
  /** Raised when a node dies or restarts: the live members of every view changed. */
  readonly epoch: number
  syncOn: boolean
  errors: number
  peerFailures: number
  index: (id: string) => number
  byId: (id: string) => SimNode | undefined
  sendTo: (from: SimNode, ids: readonly string[], frame: Frame) => void
  latencyOfStep: (step: number) => number
  peersByLatency: (i: number) => Int32Array[]
  versionCut: (master: SimNode) => void
  applied: (node: SimNode) => void
  upload: (from: SimNode, masterIndex: number, full: boolean, changed: boolean) => Promise<Version>
  fetch: (from: SimNode, to: number, since: Version, want: Version, named?: ArchiveRef) => Promise<FetchAnswer>
}

export class SimNode {
  election!: Election
  /** Its heartbeat (src/cluster/heartbeat.ts): a slave ticks on its master's beat. */
  pace: HeartbeatPace | null = null
  alive = true
  /** Nodes whose frames to this one are lost while both sides see the connection open (a link dead but open). */
  readonly deafTo = new Set<number>()
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
  /** The beacon period each peer's last beacon declared. */
  readonly periodOf: Uint16Array
  /** Its live members, as the relay tree and the fan-out's holders see them. */
  views!: MemberViews
  /** The last beat of this node's beacons, and the last beat taken from each master (beacon-relay.ts). */
  private lastBeat = 0
  /** The term and version of this node's last beacon (beacon-router.ts lastSaid). */
  private lastSaid = ''
  private readonly marks = new Map<number, number>()
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

  constructor (readonly cluster: SimNetwork, readonly index: number, readonly id: string, readonly addrs: Array<Uint8Array<ArrayBuffer>>) {
    this.lastDirect = new Float64Array(cluster.size)
    this.periodOf = new Uint16Array(cluster.size).fill(1)
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
    this.views = new MemberViews(this.id, this.election, cluster)
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
    this.periodOf.fill(1)
    this.marks.clear()
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
    const beat = this.lastBeat = Math.max(this.lastBeat + 1, Math.floor(this.cluster.wallBase + this.cluster.queue.now))
    // The bytes beacon-wire.ts encodes, without a name or a health record.
    const unsigned = encodeBeacon(b, {
      addrs: this.addrs,
      fullArchive: this.cluster.fanOut ? this.offer.held?.ref ?? undefined : undefined,
      wallMs: this.cluster.wallBase + this.cluster.queue.now,
      name: '',
      health: undefined
    }, beat)
    // As beacon-router.ts: the master signs (the signature's bytes: field 25, 64 bytes) and sends to its
    // children in the relay tree, and a beacon with a new term or version to every node itself.
    const signed = this.cluster.relay && b.role === 'master'
    const bytes = signed ? Buffer.concat([unsigned, SIGNATURE_TAIL]) : unsigned
    const frame: Frame = { bytes, decoded: null, forElection: null, archive: undefined }
    const said = `${b.term} ${b.version.term}.${b.version.seq}`
    const news = said !== this.lastSaid
    this.lastSaid = said
    if (signed && !news) {
      this.cluster.sendTo(this, relayTargets(this.id, this.id, this.views.relaying(), beat), frame)
      return
    }
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

  beaconFrom (from: SimNode, frame: Frame): void {
    if (!this.alive || this.deafTo.has(from.index)) return
    const b = decodeFrame(frame)
    const author = this.cluster.byId(b.nodeId)
    if (author === undefined || author === this) return
    if (b.signature.byteLength > 0) {
      // As beacon-relay.ts: a copy of a beat already taken is dropped; a fresh one is passed on down the tree first.
      if (b.beat <= (this.marks.get(author.index) ?? 0)) return
      this.marks.set(author.index, b.beat)
      if (b.role === Role.MASTER) this.cluster.sendTo(this, relayTargets(author.id, this.id, this.views.relaying(), b.beat), frame)
    } else if (author !== from) return
    this.fromAuthor(author, b, frame)
  }

  /** Beacon `b` as `from`'s own word (sent by it, or its signed beacon passed on). */
  private fromAuthor (from: SimNode, b: Beacon, frame: Frame): void {
    const now = this.cluster.queue.now
    const before = this.lastDirect[from.index]
    if (!(before > 0)) this.views.heardNew()
    this.lastDirect[from.index] = now
    // As beacon-router.ts: a member back after its period's window is introduced to all by the
    // master or a node that knows none, and by a slave to its master alone.
    if (now - before > INTRODUCE_AFTER_MS * this.periodOf[from.index]) this.introduce(from, frame)
    this.periodOf[from.index] = wirePeriod(b)
    this.election.receive(frame.forElection as ElectionBeacon)
    if (b.role === Role.MASTER && b.nodeId === this.election.masterId && b.version !== undefined) this.masterAnnounced(b.version)
    this.heldChanged(from.index, frame.archive)
    if (b.role === Role.MASTER && b.nodeId === this.election.masterId) this.pace?.beat()
  }

  /**
   * Passes a member's beacon on to every other linked peer (a slave: to its master). Counted, not delivered: in a full
   * mesh the receiver is already connected to that member, and an introduction only makes it dial.
   */
  private introduce (author: SimNode, frame: Frame): void {
    const size = frame.bytes.byteLength + prefixLength(frame.bytes.byteLength)
    const toAll = this.election.role !== 'slave' || this.election.masterId === null
    for (const peer of this.cluster.nodes) {
      if (peer === this || peer === author || !peer.alive) continue
      if (!toAll && peer.id !== this.election.masterId) continue
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

  private holders (archive: ArchiveRef): string[] {
    const live = this.views.live()
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
    void this.uploadLoop().finally(() => { this.uploading = false })
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
