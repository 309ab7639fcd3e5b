/**
 * When a deleted list entry (a tombstone) may be forgotten: the rule of protocol/sync-v1.md,
 * "Tombstones". A tombstone exists only so that an older copy of its entry cannot come back;
 * once every member holds it (or something newer) no such copy is left, and it can go.
 *
 * The master computes a **floor**, a cluster time (ms): every member it waits for has applied a
 * version that holds every edit stamped before it. Tombstones stamped before the floor are
 * dropped everywhere, and an entry stamped before the floor for a key a node does not hold is
 * not taken (it is a copy of an entry whose tombstone was dropped, from a node that was away).
 * Pure: the sync engine feeds it the members, versions and clock.
 */
import { compareVersions, type Version } from '../version.js'
import type { Entry } from './lww-set.js'
import { compareStamps, type Stamp } from './hlc.js'

/** A member as the engine's caller knows it (from beacons). */
export interface KnownMember {
  nodeId: string
  /** The version its last own beacon says it applied; null when not heard since start. */
  applied: Version | null
  /** When that beacon was heard (ms); null when not heard since start. */
  lastSeenMs: number | null
}

/** How long tombstones wait. */
export interface TombstoneOptions {
  /** A member not heard for this long is no longer waited for (default 24 h). */
  keepMs: number
  /** How long an edit may take to reach the master after it was stamped (default 5 min). */
  graceMs: number
  /** At most one collection per this interval (default 10 s): a collection reads every entry. */
  intervalMs: number
}

/** The defaults of {@link TombstoneOptions}. */
export const DEFAULT_TOMBSTONE_OPTIONS: TombstoneOptions = { keepMs: 24 * 3600_000, graceMs: 5 * 60_000, intervalMs: 10_000 }

/** One member as the master sees it for the floor. */
export interface FloorMember extends KnownMember {
  /** Whether the master merged its full state in this term (then it holds nothing the master lacks). */
  fullSeen: boolean
}

/** What the floor is computed from. */
export interface FloorInputs {
  /** Cluster time now (ms). */
  now: number
  /** The master's term and its newest version. */
  term: number
  current: Version
  /** When the master cut version `(term, seq)` of its term (ms), or undefined when not known. */
  cutTime: (seq: number) => number | undefined
  /** Every other member the master knows of. */
  members: readonly FloorMember[]
  /** A member not heard for longer than this is not waited for: it takes the master's state when it returns. */
  keepMs: number
  /** How long an edit may take to reach the master after it was stamped (an upload in flight). */
  graceMs: number
}

/**
 * The highest floor the members allow now, or null while one blocks it (a member heard within
 * `keepMs` that has not applied a version of this term, or whose full state is not merged yet).
 * A member that applied the newest version holds every edit the master merged; one that applied
 * an older version V holds every edit stamped `graceMs` before V was cut. An edit older than
 * `graceMs` that reaches the master only after the floor passed it is refused and reported.
 */
export function floorCandidate (inputs: FloorInputs): number | null {
  const { now, term, current, keepMs, graceMs } = inputs
  let floor = now - graceMs
  for (const m of inputs.members) {
    const heardAgo = m.lastSeenMs === null ? null : now - m.lastSeenMs
    if (heardAgo !== null && heardAgo > keepMs) continue
    if (m.applied === null || m.applied.term !== term || !m.fullSeen) return null
    if (compareVersions(m.applied, current) >= 0) continue
    const cut = inputs.cutTime(m.applied.seq)
    if (cut === undefined) return null
    floor = Math.min(floor, cut - graceMs)
  }
  return Math.max(0, floor)
}

/** The oldest applied version among the members the floor waited for (a fetch from before it must take the full state). */
export function oldestWaited (inputs: FloorInputs): Version {
  let oldest = inputs.current
  for (const m of inputs.members) {
    if (m.lastSeenMs !== null && inputs.now - m.lastSeenMs > inputs.keepMs) continue
    if (m.applied !== null && compareVersions(m.applied, oldest) < 0) oldest = m.applied
  }
  return oldest
}

/** True for a tombstone the floor lets go. */
export function collectable (entry: Entry, floor: number): boolean {
  return !entry.present && entry.stamp.wallMs < floor
}

/** What {@link screenIncoming} did. */
export interface Screened {
  /** The entries to merge. */
  entries: Entry[]
  /** Entries left out: stamped before the floor, for a key not held here. */
  refused: number
  /** Entries stamped before the floor that were kept, their stamp raised to `now`. */
  raised: number
}

/**
 * Screens entries from elsewhere against the floor before they are merged. An entry stamped
 * before the floor whose key is not held here is left out: its tombstone may have been dropped,
 * and taking it would bring back a deleted entry. One for a held key merges as usual, but
 * stamped at `now` (counter and node id kept): it wins over the held entry all the same (the
 * held one is older), and it travels as a new change, so a late delete is dropped only once
 * every member applied the version that carries it, like any other.
 */
export function screenIncoming (incoming: readonly Entry[], floor: number, held: (key: string) => Entry | undefined, now: number): Screened {
  if (floor <= 0) return { entries: [...incoming], refused: 0, raised: 0 }
  const entries: Entry[] = []
  let refused = 0
  let raised = 0
  for (const e of incoming) {
    if (e.stamp.wallMs >= floor) {
      entries.push(e)
      continue
    }
    const current = held(e.key)
    if (current === undefined) {
      refused++
      continue
    }
    // One that loses to the held entry merges as it is, and changes nothing.
    if (compareStamps(e.stamp, current.stamp) <= 0) {
      entries.push(e)
      continue
    }
    raised++
    entries.push({ ...e, stamp: raiseTo(e.stamp, Math.max(floor, now)) })
  }
  return { entries, refused, raised }
}

/** `stamp` at wall time `wallMs`, counter and node id kept. */
function raiseTo (stamp: Stamp, wallMs: number): Stamp {
  return { wallMs, counter: stamp.counter, nodeId: stamp.nodeId }
}

/** What a node does with its entries that the master's full state lacks. */
export interface Stale<E extends Entry> {
  /** Keys to drop: copies of entries deleted while this node was away (their tombstones dropped). */
  drop: string[]
  /** This node's own edits the master never acknowledged: new to the cluster, to be stamped anew. */
  restamp: E[]
}

/**
 * Sorts what a node holds against the master's full state, applied under `floor`: an entry
 * stamped before the floor that the full state does not carry was deleted and its tombstone
 * dropped while this node was away, so it goes; unless it is this node's own edit that the
 * master never acknowledged (`ownUnacked`), which no other node has seen: it is stamped anew,
 * so the master takes it (as it stands, stamped before the floor, the master would refuse it).
 * Such a delete of a key the master does not hold deletes nothing, and goes.
 */
export function sortStale<E extends Entry> (local: Iterable<E>, carried: (key: string) => boolean, floor: number, ownUnacked: (entry: E) => boolean): Stale<E> {
  const out: Stale<E> = { drop: [], restamp: [] }
  if (floor <= 0) return out
  for (const e of local) {
    if (e.stamp.wallMs >= floor || carried(e.key)) continue
    if (e.present && ownUnacked(e)) out.restamp.push(e)
    else out.drop.push(e.key)
  }
  return out
}
