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

/** The sha256, CRC-32 and (at first use per level) deflate stream of `data`, computed once per bytes object. */
export function packed (data: Uint8Array): PackedFile {
  const kept = packedFiles.get(data)
  if (kept !== undefined) return kept
  const streams = new Map<number, Uint8Array>()
  const file: PackedFile = {
    sha256: createHash('sha256').update(data).digest('hex'),
    crc: crc32(data) >>> 0,
    deflated: (level) => {
      let stream = streams.get(level)
      if (stream === undefined) streams.set(level, stream = deflateRawSync(data, { level }))
      return stream
    }
  }
  packedFiles.set(data, file)
  return file
}
