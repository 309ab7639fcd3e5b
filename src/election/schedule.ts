/**
 * When a node publishes its beacon (election-v1.md, "Beacon schedule"): the master and a
 * candidate every heartbeat; a slave every beacon period, and at once when what it says changed.
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
}

/** The beacon schedule of one node. */
export class BeaconSchedule {
  /** Ticks since this node last published. */
  private ticks = 0
  /** The fields of the last beacon published. */
  private last = ''

  /** One heartbeat passed; whether it publishes, for a node with `period` that says `now`. */
  tick (period: number, now: ScheduledFields): boolean {
    this.ticks++
    return now.role !== 'slave' || this.ticks >= period || key(now) !== this.last
  }

  /** A beacon saying `fields` was published. */
  published (fields: ScheduledFields): void {
    this.ticks = 0
    this.last = key(fields)
  }
}

function key (f: ScheduledFields): string {
  return `${f.role} ${f.term} ${f.masterId ?? ''} ${f.pin} ${f.version.term}.${f.version.seq} ${f.appliedVersion.term}.${f.appliedVersion.seq}`
}
