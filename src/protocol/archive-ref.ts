/**
 * The name of one exact archive (version, size, SHA-256): what a fetch asks for, a holder offers
 * and a receiver checks, so two archives of one version built on different nodes never mix.
 */
import { createHash } from 'node:crypto'
import { compareVersions, formatVersion, type Version } from '../version.js'

/** One exact archive. */
export interface ArchiveRef {
  version: Version
  size: number
  sha256: Uint8Array<ArrayBuffer>
}

/** True when both name the same bytes. */
export function sameArchive (a: ArchiveRef, b: ArchiveRef): boolean {
  return a.size === b.size && compareVersions(a.version, b.version) === 0 && Buffer.from(a.sha256).equals(Buffer.from(b.sha256))
}

/** `T.S/size/sha-prefix`, for messages. */
export function describeArchive (a: ArchiveRef | undefined): string {
  return a === undefined ? 'no archive' : `${formatVersion(a.version)}/${a.size} B/sha256 ${Buffer.from(a.sha256).toString('hex').slice(0, 12)}`
}

/** The reference of `zip`, the archive of `version`. */
export function archiveRef (zip: Uint8Array, version: Version): ArchiveRef {
  return { version, size: zip.byteLength, sha256: createHash('sha256').update(zip).digest() }
}
