/**
 * The remote nodes one election has heard of: each one's last beacon and liveness, and the
 * choices the machine makes among them (the best live eligible node, the heir of a master).
 */
import { MAX_BEACON_PERIOD, type Beacon, type Pin } from './beacon.js'
import { compareRank, eligible, outranksByConfig, type Ranked } from './rank.js'

/** One remote node as seen through its beacons, for status: its last beacon's fields (not its schedule) and its liveness. */
export interface MemberView extends Omit<Beacon, 'period'> {
  /** Clock time of its last beacon. */
  lastSeen: number
  /** Its last beacon is younger than its liveness window (the window times its beacon period). */
  live: boolean
}

/** What the machine remembers of one remote node. */
interface Member {
  /** Its last beacon. */
  beacon: Beacon
  /** When that beacon arrived. */
  lastSeen: number
  /** Start of its current unbroken live streak (for the handover window). */
  liveSince: number
  /** It was named master and did not answer (a candidate's wait ran out): not live until heard again. */
  suspected: boolean
}

/**
 * Remote nodes by id, live while their last beacon is younger than their liveness window: the
 * window times the beacon period the member declared. A member with a period above 1 (a slave
 * of a larger cluster, silent for seconds between beacons) counts as live only while its
 * connection is open too, where the transport can tell, so a crashed one is not live at once.
 */
export class MemberTable {
  /** The liveness window. */
  private readonly windowMs: number
  /** Whether a connection to a node is open; absent: not known, the window alone decides. */
  private readonly connected: ((nodeId: string) => boolean) | undefined
  /** Remote nodes by id. */
  private readonly peers = new Map<string, Member>()
  /** When a beacon without a period (an agent from before it) was last recorded. */
  private lastLegacyAt = -Infinity
  /** When a beacon of an agent capped at MAX_BEACON_PERIOD (it sends no long period) was last recorded. */
  private lastCappedAt = -Infinity

  constructor (windowMs: number, connected?: (nodeId: string) => boolean) {
    this.windowMs = windowMs
    this.connected = connected
  }

  /**
   * Whether an agent from before the beacon period (it declares none) was heard within the
   * window: O(1), asked at every heartbeat.
   */
  legacyLive (now: number): boolean {
    return now - this.lastLegacyAt < this.windowMs
  }

  /**
   * Whether an agent capped at MAX_BEACON_PERIOD (before the long period) may still be live: heard
   * within its longest liveness window. O(1), asked at every heartbeat.
   */
  cappedLive (now: number): boolean {
    return now - this.lastCappedAt < this.windowMs * MAX_BEACON_PERIOD
  }

  /**
   * `nodeId` was named master and did not take the role within a window: it is not live until it
   * is heard again, so the next term names another node. Only for a member with a period above 1,
   * whose window alone would keep it live for many heartbeats.
   */
  suspect (nodeId: string): void {
    const m = this.peers.get(nodeId)
    if (m !== undefined && (m.beacon.period ?? 1) > 1) m.suspected = true
  }

  /** Number of nodes ever heard of. */
  get size (): number {
    return this.peers.size
  }

  /** Records `beacon` heard at `now`; a node that was live keeps its live streak. */
  record (beacon: Beacon, now: number): void {
    const known = this.peers.get(beacon.nodeId)
    const wasLive = known !== undefined && this.isLive(known, now)
    if (beacon.period === undefined) this.lastLegacyAt = now
    if (beacon.longPeriods !== true) this.lastCappedAt = now
    this.peers.set(beacon.nodeId, {
      beacon: { ...beacon },
      lastSeen: now,
      liveSince: wasLive ? known.liveSince : now,
      suspected: false
    })
  }

  /** Moves every "last heard" time forward by a pause of this node, as if the clock had stood still. */
  shift (pausedMs: number): void {
    this.lastLegacyAt += pausedMs
    this.lastCappedAt += pausedMs
    for (const m of this.peers.values()) {
      m.lastSeen += pausedMs
      m.liveSince += pausedMs
    }
  }

  /** Every remote node ever heard of, by node id; silent ones stay listed as not live. */
  views (now: number): MemberView[] {
    return [...this.peers.values()]
      .map(m => ({
        nodeId: m.beacon.nodeId,
        priority: m.beacon.priority,
        pin: m.beacon.pin,
        role: m.beacon.role,
        term: m.beacon.term,
        masterId: m.beacon.masterId,
        version: m.beacon.version,
        appliedVersion: m.beacon.appliedVersion,
        lastSeen: m.lastSeen,
        live: this.isLive(m, now)
      }))
      .sort((a, b) => a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0)
  }

  /**
   * The node ids of the live members, in plain string order: what the relay tree and the
   * introductions need at every beat, without a view object per member (views() made one per
   * member and sorted them, 3% of an idle slave's CPU time in a 10-node cluster, perf).
   */
  liveIds (now: number): string[] {
    const ids: string[] = []
    for (const m of this.peers.values()) if (this.isLive(m, now)) ids.push(m.beacon.nodeId)
    return ids.sort()
  }

  /** The best-ranked node configured to rank above `self` that has been live for a whole window, if any. */
  heir (self: Ranked, now: number): string | null {
    let heir: Ranked | null = null
    for (const m of this.peers.values()) {
      if (!eligible(m.beacon.pin) || !this.isLive(m, now) || now - m.liveSince < this.windowMs) continue
      if (!outranksByConfig(m.beacon, self)) continue
      if (heir === null || compareRank(m.beacon, heir) < 0) heir = m.beacon
    }
    return heir?.nodeId ?? null
  }

  /** Best-ranked live eligible node, `self` included when eligible; null when none may be master. */
  best (self: Ranked, now: number): string | null {
    let best: Ranked | null = eligible(self.pin) ? self : null
    for (const m of this.peers.values()) {
      if (!eligible(m.beacon.pin) || !this.isLive(m, now)) continue
      if (best === null || compareRank(m.beacon, best) < 0) best = m.beacon
    }
    return best?.nodeId ?? null
  }

  /** Pin of `nodeId`, from `b` itself or the last beacon of that node; unknown counts as auto. */
  pinOf (nodeId: string, b: Beacon): Pin {
    if (nodeId === b.nodeId) return b.pin
    return this.peers.get(nodeId)?.beacon.pin ?? 'auto'
  }

  /** Rank fields of a known node; unknown ones rank as auto with the lowest priority. */
  rankOf (nodeId: string | null): Ranked {
    const m = nodeId === null ? undefined : this.peers.get(nodeId)
    return m?.beacon ?? { nodeId: nodeId ?? '', priority: -Infinity, pin: 'auto' }
  }

  /** The member's last beacon is younger than its liveness window (see the class comment). */
  private isLive (m: Member, now: number): boolean {
    const period = m.beacon.period ?? 1
    if (period === 1) return now - m.lastSeen < this.windowMs
    return !m.suspected && now - m.lastSeen < this.windowMs * period && this.connected?.(m.beacon.nodeId) !== false
  }
}
