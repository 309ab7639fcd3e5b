/**
 * What packing a file into an archive computes of its bytes (sha256 for the manifest, CRC-32 and
 * deflate stream for the zip), kept for as long as those bytes live, so the same bytes packed
 * again cost nothing. One encoded list file (held by ListReplica.encoded while the list does not
 * change) goes into the archive of every fetcher of a version, and each pack hashed, summed and
 * deflated it anew (121k-line list, 4.6 MB: 70-150 ms of the master's CPU per fetcher after the
 * first, load 10-16). Kept per bytes object (a WeakMap): bytes must not change once packed,
 * which holds for every encoded file (nothing writes into one after it is made).
 */
import { createHash } from 'node:crypto'
import { crc32, deflateRawSync } from 'node:zlib'

/** What packing a file's bytes computes: its sha256 (hex), CRC-32, and deflate stream per level. */
export interface PackedFile {
  sha256: string
  crc: number
  deflated: (level: number) => Uint8Array
}

const packedFiles = new WeakMap<Uint8Array, PackedFile>()

/**
 * Records what an archive read showed of `data`, a file it carried: its sha256 and CRC-32 (both
 * checked against the bytes) and, when it came deflated, its deflate stream, which packing it
 * again then uses at any level. A list file the master merged into an empty dataset is the one
 * its delta carries (EntryBuckets.keepReceived): passed on as it came, not hashed and deflated again.
 */
export function knownPacked (data: Uint8Array, sha256: string, crc: number, stream: Uint8Array | undefined): void {
  packedFiles.set(data, packedFile(data, sha256, crc, stream))
}

/** The sha256, CRC-32 and (at first use per level) deflate stream of `data`, computed once per bytes object. */
export function packed (data: Uint8Array): PackedFile {
  const kept = packedFiles.get(data)
  if (kept !== undefined) return kept
  const file = packedFile(data, createHash('sha256').update(data).digest('hex'), crc32(data) >>> 0, undefined)
  packedFiles.set(data, file)
  return file
}

// `stream`: a deflate stream of `data` to use at every level.
function packedFile (data: Uint8Array, sha256: string, crc: number, stream: Uint8Array | undefined): PackedFile {
  const streams = new Map<number, Uint8Array>()
  return {
    sha256,
    crc,
    deflated: (level) => {
      if (stream !== undefined) return stream
      let made = streams.get(level)
      if (made === undefined) streams.set(level, made = deflateRawSync(data, { level }))
      return made
    }
  }
}
