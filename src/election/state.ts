/**
 * Master election as a pure state machine. It owns no timer, socket or file: the agent's wiring
 * calls `tick()` every heartbeat interval and `receive()` for every beacon a peer sent
 * (protocol/beacon-link.ts), and the machine answers through the injected transport and events. Time comes
 * from the injected clock, so tests drive whole clusters with a fake one.
 *
 * The rules and their why are protocol/election-v1.md's: rank (pins, priority, node id); a term
 * started by a node that lost its master names the best-ranked live eligible node; a higher term
 * wins, two masters in one term go by rank and the loser uploads its full state; a live, healthy
 * master stays master and hands over only to a node configured to rank above it that has been
 * live a whole window; a node that cannot apply stands as a pinned slave; a term moves at most
 * MAX_TERM_STEP per beacon and never past MAX_TERM; a pinned master never follows an unpinned
 * node; a slave of a larger cluster beacons every beacon period (schedule.ts).
 */
import { ConfigError, SpamsyncError } from '../errors.js'
import type { Version } from '../version.js'
import { MAX_BEACON_PERIOD, MAX_LONG_BEACON_PERIOD, MAX_TERM, beaconPeriod, wellFormed, type Beacon, type Pin, type Role } from './beacon.js'
import { MemberTable, type MemberView } from './members.js'
import { BeaconSchedule } from './schedule.js'
import { compareRank, eligible, type Ranked } from './rank.js'
import { BUSY_MASTER_INTERVALS, DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_MISSED_HEARTBEATS, PAUSE_INTERVALS, type ElectionEvents, type ElectionOptions, type ElectionTransport, type TermStartReason } from './options.js'

// The machine's entry point also speaks for the beacon, rank and member types it uses.
export { ALL_TO_ALL_MAX_NODES, MAX_BEACON_PERIOD, MAX_LONG_BEACON_PERIOD, MAX_TERM, MIN_SLAVE_PERIOD, MAX_TERM_STEP, beaconPeriod, termInReach, type Beacon, type Pin, type Role } from './beacon.js'
export { compareRank, outranksByConfig, type Ranked } from './rank.js'
export type { MemberView } from './members.js'
export type { ElectionEvents, ElectionOptions, ElectionTransport, TermStartReason } from './options.js'
export { BUSY_MASTER_INTERVALS, DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_MISSED_HEARTBEATS, PAUSE_INTERVALS } from './options.js'

/** `tick()` was called before `start()`: a wiring bug, not an operator's mistake. */
export class ElectionNotStartedError extends SpamsyncError {
  /** A bug: the CLI prints the stack. */
  override readonly expected: boolean = false
}

/** The election state machine of one node. */
export class Election {
  /** This node's id. */
  readonly nodeId: string
  /** This node's priority. */
  readonly priority: number
  /** This node's pinned role. */
  readonly pin: Pin
  /** Time between beacons. */
  readonly heartbeatIntervalMs: number
  /** Beacons a node may miss before it counts as gone. */
  readonly missedHeartbeats: number
  /** Liveness window: `missedHeartbeats` intervals. */
  private readonly windowMs: number
  /** Patience with a silent master that is still connected: `BUSY_MASTER_INTERVALS` intervals. */
  private readonly busyWindowMs: number
  /** Injected time source. */
  private readonly clock: () => number
  /** Injected beacon sender. */
  private readonly transport: ElectionTransport
  /** Injected callbacks. */
  private readonly events: ElectionEvents
  /** Whether this node can apply now; see ElectionOptions.canLead. */
  private readonly canLead: () => boolean
  /** Newest central version held, for the beacon. */
  private readonly version: () => Version
  /** Applied central version, for the beacon. */
  private readonly appliedVersion: () => Version
  /** Remote nodes heard of. */
  private readonly peers: MemberTable
  /** Backing field of `role`. */
  private currentRole: Role = 'candidate'
  /** Backing field of `masterId`. */
  private currentMaster: string | null = null
  /** Backing field of `term`. */
  private currentTerm: number
  /** Slave: last heartbeat of its master. Candidate: when the wait began. */
  private since = 0
  /** `start()` was called. */
  private started = false
  /** Clock time of the last tick, to tell this node's own pause from others' silence. */
  private lastTick: number | null = null
  /** Set when this node stops being master; paid by a full upload to the next master it follows. */
  private owesFullState = false
  /** Full upload to announce once the current step is reported. */
  private pendingUpload: string | null = null
  /** When this node publishes: a slave of a larger cluster every beacon period, or when its fields change. */
  private readonly schedule = new BeaconSchedule()
  /** This node's beacon period as of the last tick. */
  private beaconPeriod = 1

  constructor (opts: ElectionOptions) {
    const interval = opts.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS
    const missed = opts.missedHeartbeats ?? DEFAULT_MISSED_HEARTBEATS
    if (opts.nodeId === '') throw new ConfigError('election: nodeId must not be empty')
    if (!Number.isFinite(opts.priority)) throw new ConfigError(`election: priority must be a finite number, got ${opts.priority}`)
    if (!Number.isSafeInteger(opts.term) || opts.term < 0 || opts.term > MAX_TERM) throw new ConfigError(`election: persisted term must be a non-negative integer, got ${opts.term}`)
    if (!(Number.isFinite(interval) && interval > 0)) throw new ConfigError(`election: heartbeatIntervalMs must be > 0, got ${interval}`)
    if (!(Number.isSafeInteger(missed) && missed >= 1)) throw new ConfigError(`election: missedHeartbeats must be an integer >= 1, got ${missed}`)
    this.nodeId = opts.nodeId
    this.priority = opts.priority
    this.pin = opts.pin
    this.heartbeatIntervalMs = interval
    this.missedHeartbeats = missed
    this.windowMs = interval * missed
    this.busyWindowMs = Math.max(this.windowMs, interval * BUSY_MASTER_INTERVALS)
    this.clock = opts.clock
    this.transport = opts.transport
    this.events = opts.events
    this.version = opts.version
    this.appliedVersion = opts.appliedVersion
    this.canLead = opts.canLead ?? (() => true)
    this.currentTerm = opts.term
    this.peers = new MemberTable(this.windowMs, opts.transport.connected)
  }

  /** Current role; 'candidate' until a master is known. */
  get role (): Role {
    return this.currentRole
  }

  /** The master this node follows (itself when master); when candidate, the node it waits for. */
  get masterId (): string | null {
    return this.currentMaster
  }

  /** Current term; never decreases, not even across restarts. */
  get term (): number {
    return this.currentTerm
  }

  /** Starts the startup wait and publishes the first beacon. A second call does nothing. */
  start (): void {
    if (this.started) return
    this.started = true
    this.since = this.clock()
    this.publish()
  }

  /** One heartbeat interval passed: apply timeouts and handover, then publish a beacon. */
  tick (): void {
    if (!this.started) throw new ElectionNotStartedError('election: tick() before start()')
    const now = this.clock()
    const pausedMs = this.lastTick === null ? 0 : now - this.lastTick - this.heartbeatIntervalMs
    this.lastTick = now
    if (pausedMs > (PAUSE_INTERVALS - 1) * this.heartbeatIntervalMs) {
      this.forgetPause(pausedMs)
    } else {
      this.step(() => { this.evaluate(now) })
    }
    // Set on the heartbeat; a beacon off the tick (announce) reuses it.
    this.beaconPeriod = this.period(now)
    if (this.schedule.tick(this.beaconPeriod, this.beacon())) this.publish()
  }

  /**
   * Heartbeats between two of this node's beacons when nothing changes: 1 but for a slave, and
   * 1 while a member runs an agent from before the schedule (it would count this one as gone).
   * Sized on every member heard of (not only the live ones: a count that walks no list).
   */
  private period (now: number): number {
    if (this.currentRole !== 'slave' || this.peers.legacyLive(now)) return 1
    return beaconPeriod(this.peers.size + 1, this.peers.cappedLive(now) ? MAX_BEACON_PERIOD : MAX_LONG_BEACON_PERIOD)
  }

  /** Moves every "last heard" time forward by the pause, as if the clock had stood still. */
  private forgetPause (pausedMs: number): void {
    this.since += pausedMs
    this.peers.shift(pausedMs)
  }

  /** Publishes a beacon now, off the heartbeat pace: the master tells a new version at once. */
  announce (): void {
    if (this.started) this.publish()
  }

  /** A beacon a peer sent. Every beacon counts for liveness; only current ones steer the choice. */
  receive (beacon: Beacon): void {
    if (beacon.nodeId === this.nodeId || !wellFormed(beacon, this.currentTerm)) return
    const now = this.clock()
    this.peers.record(beacon, now)
    if (beacon.term < this.currentTerm) return
    this.step(() => {
      if (beacon.term > this.currentTerm) this.adopt(beacon, now)
      else this.sameTerm(beacon, now)
    })
  }

  /** Every remote node ever heard of, by node id; silent ones stay listed as not live. */
  members (): MemberView[] {
    return this.peers.views(this.clock())
  }

  /** The node ids of the live members, in plain string order. */
  liveMembers (): string[] { return this.peers.liveIds(this.clock()) }

  /** Runs one state change and reports its net effect, so transient states never reach the agent. */
  private step (change: () => void): void {
    const before = [this.currentRole, this.currentMaster, this.currentTerm] as const
    change()
    if (before[0] !== this.currentRole || before[1] !== this.currentMaster || before[2] !== this.currentTerm) {
      this.events.onRoleChange?.(this.currentRole, this.currentMaster, this.currentTerm)
    }
    const upload = this.pendingUpload
    this.pendingUpload = null
    if (upload !== null) this.events.onUploadFullState?.(upload)
  }

  /** Timeouts and handover, on the heartbeat pace. */
  private evaluate (now: number): void {
    if (this.currentRole === 'master') {
      const heir = this.peers.heir(this.self(), now)
      if (heir !== null) this.handOver(heir, now)
      return
    }
    // Slave: the master went silent. Candidate: the startup wait or the named master's answer timed out.
    if (now - this.since >= this.masterWindow()) {
      // A named master that never answered is not named again while it stays silent.
      if (this.currentRole === 'candidate' && this.currentMaster !== null) this.peers.suspect(this.currentMaster)
      const cause = this.currentRole === 'slave' ? 'master-silent' : 'named-silent'
      this.startTerm(now, { cause, nodeId: this.currentMaster, silentMs: now - this.since, windowMs: this.masterWindow() })
    }
  }

  /** A beacon of a newer term: adopt the term and follow the master it names. */
  private adopt (b: Beacon, now: number): void {
    const named = b.role === 'master' ? b.nodeId : b.masterId
    if (named !== null && named !== this.nodeId && !this.mayFollow(this.peers.pinOf(named, b))) {
      this.claim(b.term + 1, named)
      return
    }
    this.enterTerm(b.term, { cause: 'adopt', nodeId: b.nodeId, role: b.role })
    // No name (a restarted node with a newer persisted term): keep the role; a master goes on in
    // the new term, a slave waits for its master to catch up or times out as usual.
    if (named === null) return
    if (named === this.nodeId) {
      this.answerNaming(now)
      return
    }
    if (b.role === 'master') this.follow(b.nodeId, now)
    else this.waitFor(named, now)
  }

  /** A beacon of this node's own term. */
  private sameTerm (b: Beacon, now: number): void {
    if (b.role === 'master') {
      switch (this.currentRole) {
        case 'master':
          // Two masters in one term: the better rank stays (a pinned master outranks any auto one).
          if (compareRank(b, this.self()) < 0) this.follow(b.nodeId, now)
          return
        case 'slave':
          if (b.nodeId === this.currentMaster) {
            this.since = now
            return
          }
          if (!this.masterHealthy(now) || compareRank(b, this.peers.rankOf(this.currentMaster)) < 0) this.followOrClaim(b, now)
          return
        case 'candidate':
          this.followOrClaim(b, now)
          return
      }
    }
    // Our master stepped down in this term (it yielded, or restarted): go where it points.
    if (b.nodeId === this.currentMaster && this.currentRole !== 'master') {
      const named = b.masterId
      if (named === this.nodeId) this.answerNaming(now)
      else if (named !== null && !this.mayFollow(this.peers.pinOf(named, b))) this.claim(this.currentTerm + 1, named)
      else this.waitFor(named, now)
    }
  }

  /** Follows master beacon `b` unless this is a pinned master and `b` is not. */
  private followOrClaim (b: Beacon, now: number): void {
    if (this.mayFollow(b.pin)) this.follow(b.nodeId, now)
    else this.claim(this.currentTerm + 1, b.nodeId)
  }

  /** Another node named this one master of the current term. */
  private answerNaming (now: number): void {
    if (eligible(this.standing())) this.becomeMaster()
    else this.waitFor(null, now)
  }

  /** Starts the next term and names the best-ranked live eligible node its master. */
  private startTerm (now: number, reason: TermStartReason): void {
    const best = this.peers.best(this.self(), now)
    if (best === null) {
      // No node may be master (all pinned slaves): wait without inflating the term.
      this.waitFor(null, now)
      return
    }
    this.enterTerm(this.currentTerm + 1, reason)
    if (best === this.nodeId) this.becomeMaster()
    else this.waitFor(best, now)
  }

  /** The master gives its role to `heir` in the next term. */
  private handOver (heir: string, now: number): void {
    this.enterTerm(this.currentTerm + 1, { cause: 'handover', nodeId: heir })
    this.waitFor(heir, now)
  }

  /** A pinned master takes `term` for itself rather than follow an unpinned node. */
  private claim (term: number, unpinned: string): void {
    this.enterTerm(term, { cause: 'claim', nodeId: unpinned })
    this.becomeMaster()
  }

  /** Raises the term; persisted before anything is done in it. At MAX_TERM the term stays and rank decides. */
  private enterTerm (term: number, reason: TermStartReason): void {
    if (term <= this.currentTerm || term > MAX_TERM) return
    this.events.persistTerm(term)
    this.currentTerm = term
    this.events.onTermStart?.(term, reason)
  }

  /** Takes the master role in the current term. */
  private becomeMaster (): void {
    this.currentRole = 'master'
    this.currentMaster = this.nodeId
    this.owesFullState = false
  }

  /** Becomes slave of `masterId`; an ex-master schedules its full upload there. */
  private follow (masterId: string, now: number): void {
    this.leaveMastership()
    if (this.owesFullState) {
      this.pendingUpload = masterId
      this.owesFullState = false
    }
    this.currentRole = 'slave'
    this.currentMaster = masterId
    this.since = now
  }

  /** Becomes candidate, waiting for `masterId` (null: for any master) from `now`. */
  private waitFor (masterId: string | null, now: number): void {
    this.leaveMastership()
    this.currentRole = 'candidate'
    this.currentMaster = masterId
    this.since = now
  }

  /** A master that steps down for any reason owes the next master its full state. */
  private leaveMastership (): void {
    if (this.currentRole === 'master') this.owesFullState = true
  }

  /** The followed master's last heartbeat is younger than the liveness window. */
  private masterHealthy (now: number): boolean {
    return now - this.since < this.masterWindow()
  }

  /**
   * How long this slave's master may stay silent: longer while its connection is open. Likewise
   * a node that (re)started and has open connections but has heard no beacon yet waits longer
   * before it starts a term: its peers' beacons are late (a loaded machine), not absent, and a
   * term it started alone would depose their healthy master.
   */
  private masterWindow (): number {
    if (this.currentRole === 'slave') {
      return this.currentMaster !== null && this.transport.connected?.(this.currentMaster) === true ? this.busyWindowMs : this.windowMs
    }
    return this.currentMaster === null && this.peers.size === 0 && this.transport.connectedAny?.() === true ? this.busyWindowMs : this.windowMs
  }

  /** A pinned master follows only another pinned master. */
  private mayFollow (pin: Pin): boolean {
    return this.pin !== 'master' || pin === 'master'
  }

  /** This node's rank fields. */
  private self (): Ranked {
    return { nodeId: this.nodeId, priority: this.priority, pin: this.standing() }
  }

  /** The pin this node stands with now: an auto node that cannot apply stands as a slave. */
  private standing (): Pin {
    return this.pin === 'auto' && !this.canLead() ? 'slave' : this.pin
  }

  /** Sends this node's beacon. */
  private publish (): void {
    const beacon = this.beacon()
    this.schedule.published(beacon)
    this.transport.publish(beacon)
  }

  /** This node's beacon now. */
  private beacon (): Beacon {
    return {
      nodeId: this.nodeId,
      priority: this.priority,
      pin: this.standing(),
      role: this.currentRole,
      term: this.currentTerm,
      masterId: this.currentMaster,
      version: this.version(),
      appliedVersion: this.appliedVersion(),
      period: this.beaconPeriod,
      longPeriods: true
    }
  }
}
