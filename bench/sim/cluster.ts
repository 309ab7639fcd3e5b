/**
 * A whole spamsync cluster in one process, on a fake network and a virtual clock, to see how
 * the design scales past what one machine can run as real processes (protocol/scale.md).
 *
 * What is production code, run as is:
 * - the election (src/election/state.ts `Election`), one per node, ticked on the agent's pace
 *   (src/election/heartbeat-pace.ts: from a per-node phase, a slave on its master's beat), fed
 *   every beacon it would hear;
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
 * A node is sim/node.ts (it sees its cluster as a SimNetwork); the costs, options and fake ids are
 * sim/model.ts.
 */
import { DEFAULT_HEARTBEAT_INTERVAL_MS } from '../../src/election/state.js'
import { HeartbeatPace } from '../../src/election/heartbeat-pace.js'
import type { FetchAnswer } from '../../src/sync/fan-out.js'
import { sameArchive, type ArchiveRef } from '../../src/protocol/archive-ref.js'
import { Status } from '../../src/pb/spamsync.js'
import { compareVersions, type Version } from '../../src/version.js'
import { EventQueue, pairUniform, prng } from './events.js'
import { DEFAULT_COSTS, LATENCY_STEPS, type Frame, type SimCosts, type SimOptions, type Trial, fakeAddr, fakePeerId, prefixLength, zeroCounters } from './model.js'
import { SimNode, type SimNetwork } from './node.js'

/** A simulated cluster; see the file comment. */
export class SimCluster implements SimNetwork {
  readonly queue = new EventQueue()
  readonly nodes: SimNode[]
  readonly size: number
  readonly costs: SimCosts
  readonly fanOut: boolean
  readonly relay: boolean
  /** Wall-clock milliseconds at virtual time 0, for the beacon's wallMs field (any fixed value). */
  readonly wallBase = 1_800_000_000_000
  /** Off during the warm-up (the election alone); settle() turns it on. */
  syncOn = false
  epoch = 0
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
    this.relay = opts.relay ?? true
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
    // Heartbeats at a random phase per node, as each agent started when it did; a slave's then moves to its master's beat.
    for (const node of this.nodes) this.startBeats(node, random() * DEFAULT_HEARTBEAT_INTERVAL_MS)
  }

  /** Starts `node`'s election at `at` and its heartbeat on the agent's pace (src/cluster/heartbeat.ts), while it lives. */
  private startBeats (node: SimNode, at: number): void {
    this.queue.at(at, () => {
      node.election.start()
      const election = node.election
      node.pace?.stop()
      const pace = node.pace = new HeartbeatPace({
        intervalMs: DEFAULT_HEARTBEAT_INTERVAL_MS,
        now: () => this.queue.now,
        after: (ms, fn) => {
          // A restart or a cancel leaves the earlier schedule without effect.
          let generation = 0
          const schedule = (): void => { const mine = ++generation; this.queue.after(ms, () => { if (generation === mine) fn() }) }
          schedule()
          return { cancel: () => { generation++ }, restart: schedule }
        },
        tick: () => { if (node.alive && node.election === election) node.heartbeat(); else pace.stop() }
      })
      pace.start()
    })
  }

  /** Starts killed node `i` again now. */
  restart (i: number): void {
    const node = this.nodes[i]
    if (node.alive) throw new Error(`node ${i} is running`)
    node.restart()
    this.epoch++
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

  /** Sends `frame` from `from` to each of `ids`, one message per link (the relay tree's few copies). */
  sendTo (from: SimNode, ids: readonly string[], frame: Frame): void {
    const size = frame.bytes.byteLength + prefixLength(frame.bytes.byteLength)
    for (const id of ids) {
      const peer = this.byId(id)
      if (peer === undefined || !peer.alive) continue
      from.counters.beaconFrames++
      from.counters.beaconBytes += size
      this.queue.after(this.latency(from.index, peer.index), () => { peer.beaconFrom(from, frame) })
    }
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
    this.epoch++
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
