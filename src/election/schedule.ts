/**
 * When a node publishes its beacon (election-v1.md, "Beacon schedule"): the master and a
 * candidate every heartbeat; a slave every beacon period, and at once when what it says changed
 * or its period grew past the one it last declared (others count it live for the declared period
 * only: a slave that declared 1 in a cluster of 5 and then went quiet for 20 heartbeats in one of
 * 10 was counted gone after 3 s, left out of the relay tree, and started a term of its own).
 */
import type { Role } from './beacon.js'

/** What a slave's beacon says that others act on: a change of it is published at once. */
export interface ScheduledFields {
  role: Role
  term: number
  masterId: string | null
  pin: string
  version: { term: number, seq: number }
  appliedVersion: { term: number, seq: number }
  /** Heartbeats between two of its beacons, as the beacon declares (absent: 1). */
  period?: number
}

/** The beacon schedule of one node. */
export class BeaconSchedule {
  /** Ticks since this node last published. */
  private ticks = 0
  /** The fields of the last beacon published. */
  private last = ''
  /** The period the last beacon published declared. */
  private lastPeriod = 1

  /** One heartbeat passed; whether it publishes, for a node with `period` that says `now`. */
  tick (period: number, now: ScheduledFields): boolean {
    this.ticks++
    return now.role !== 'slave' || this.ticks >= period || key(now) !== this.last || (now.period ?? 1) > this.lastPeriod
  }

  /** A beacon saying `fields` was published. */
  published (fields: ScheduledFields): void {
    this.ticks = 0
    this.last = key(fields)
    this.lastPeriod = fields.period ?? 1
  }
}

function key (f: ScheduledFields): string {
  return `${f.role} ${f.term} ${f.masterId ?? ''} ${f.pin} ${f.version.term}.${f.version.seq} ${f.appliedVersion.term}.${f.appliedVersion.seq}`
}
