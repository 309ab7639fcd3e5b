/**
 * Limits applied when reading an archive. Every archive comes from a peer, so every size in it is
 * a claim to check: these caps bound the memory and CPU a hostile archive can make us spend.
 */

/** Caps checked while reading an archive; see protocol/archive-v1.md for the order of checks. */
export interface ArchiveLimits {
  /** Most zip entries, manifest.json included. */
  maxFiles: number
  /** Largest sum of the declared uncompressed sizes of all entries, in bytes. */
  maxTotalBytes: number
  /** Largest manifest.json, uncompressed, in bytes. */
  maxManifestBytes: number
  /** Largest uncompressed:compressed ratio of one entry (100 means 100:1). */
  maxRatio: number
  /** The ratio cap applies only to entries that inflate to more than this many bytes. */
  ratioMinBytes: number
}

/** The limits used when a caller passes none. */
export const DEFAULT_ARCHIVE_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  maxFiles: 16,
  maxTotalBytes: 512 * 1024 * 1024,
  maxManifestBytes: 64 * 1024,
  maxRatio: 100,
  // Small entries may compress far better than 100:1 (a file of one repeated line) and cannot
  // hurt anyone, so the ratio cap starts above this size.
  ratioMinBytes: 1024 * 1024
})
