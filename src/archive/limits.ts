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

/**
 * Zip bytes per entry beyond its data, at most: a local header (30) and a central directory
 * record (46), each with the entry's name, plus a data descriptor (16). Entry names of a
 * settings archive are short; 1 KiB each leaves room for any a reader would accept.
 */
const ENTRY_OVERHEAD_BYTES = 30 + 46 + 16 + 2 * 1024

/** End of central directory record, with room for a comment. */
const END_BYTES = 22 + 1024

/**
 * The largest archive (zip bytes) that can pass a reader with `limits`: every entry at its
 * largest, deflate's worst case of about 5 bytes per 16 KiB stored block (1/1024 is ample),
 * and the headers. An upload or a download that declares more is refused before a byte of it
 * is kept.
 */
export function maxArchiveBytes (limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): number {
  return limits.maxTotalBytes + Math.ceil(limits.maxTotalBytes / 1024) + limits.maxFiles * ENTRY_OVERHEAD_BYTES + END_BYTES
}
