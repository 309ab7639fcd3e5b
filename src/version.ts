/**
 * Central versions. The master numbers every central state it publishes `(term, seq)`: the term
 * of its mastership, then a sequence within it. Versions order across terms, so a slave can
 * tell that a version is newer even after a failover.
 */

/** One central version. */
export interface Version {
  /** Election term of the master that made it. */
  term: number
  /** Sequence within the term, from 1. */
  seq: number
}

/** The version before any central state exists. */
export const ZERO_VERSION: Version = Object.freeze({ term: 0, seq: 0 })

/** Total order on versions: negative when a is older than b. */
export function compareVersions (a: Version, b: Version): number {
  if (a.term !== b.term) return a.term < b.term ? -1 : 1
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1
  return 0
}

/** `term.seq`, as shown in status and logs. */
export function formatVersion (v: Version): string {
  return `${v.term}.${v.seq}`
}
