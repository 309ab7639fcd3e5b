/**
 * How two nodes rank for mastership: pinned masters first, then priority descending, then node id
 * ascending; pinned slaves are never eligible. Only the operator's configuration (pin, priority)
 * moves mastership away from a healthy master.
 */
import type { Beacon, Pin } from './beacon.js'

/** The fields that rank a node. */
export type Ranked = Pick<Beacon, 'nodeId' | 'priority' | 'pin'>

/**
 * True when the operator configured `a` to rank above `b`: a better pin, or the same pin and a
 * higher priority. Only this moves mastership away from a healthy master; the node id does not.
 */
export function outranksByConfig (a: Ranked, b: Ranked): boolean {
  const pa = pinClass(a.pin)
  const pb = pinClass(b.pin)
  return pa !== pb ? pa < pb : a.priority > b.priority
}

/** Rank order: negative when `a` ranks better (pinned master, higher priority, smaller id). */
export function compareRank (a: Ranked, b: Ranked): number {
  const pa = pinClass(a.pin)
  const pb = pinClass(b.pin)
  if (pa !== pb) return pa - pb
  if (a.priority !== b.priority) return a.priority > b.priority ? -1 : 1
  if (a.nodeId === b.nodeId) return 0
  return a.nodeId < b.nodeId ? -1 : 1
}

/** Pinned masters rank before automatic nodes, which rank before pinned slaves. */
function pinClass (pin: Pin): number {
  return pin === 'master' ? 0 : pin === 'auto' ? 1 : 2
}

/** True when a pinned role allows mastership. */
export function eligible (pin: Pin): boolean {
  return pin !== 'slave'
}
