/**
 * Hostile settings archives, each carrying a blacklist entry that must never be applied, each
 * with the named error a reader must refuse it with. Used where archives cross the wire.
 */
import { encodeEntries } from '../../src/archive/list-codec.js'
import { archiveFileName } from '../../src/sync/settings-archive.js'
import { buildZip, concat, manifestEntry, manifestFor, utf8, type RawEntry } from '../unit/archive/zip-fixtures.js'

/** The key every hostile archive tries to add to the blacklist. */
export const EVIL_KEY = 'evil.example'

/** One hostile archive and the error class name it must be refused with. */
export interface HostileArchive {
  what: string
  zip: Uint8Array
  error: string
}

/** The blacklist file of the archives: one entry, EVIL_KEY, stamped now by `nodeId`. */
export function evilList (nodeId: string): Uint8Array {
  return encodeEntries([{ key: EVIL_KEY, value: 'REJECT', present: true, stamp: { wallMs: Date.now(), counter: 0, nodeId } }]).data
}

/** A well-formed archive holding the evil entry (accepted by a reader: the control case). */
export function goodArchive (nodeId: string): Uint8Array {
  const name = archiveFileName('blacklist')
  const data = evilList(nodeId)
  return buildZip([manifestEntry(manifestFor([{ name, data }], { origin: nodeId, version: null })), { name, data }])
}

/** Every hostile case the fault suite sends. */
export function hostileArchives (nodeId: string): HostileArchive[] {
  const name = archiveFileName('blacklist')
  const data = evilList(nodeId)
  const manifest = (files: Array<{ name: string, data: Uint8Array, size?: number }>, overrides: Record<string, unknown> = {}): RawEntry =>
    manifestEntry(manifestFor(files, { origin: nodeId, version: null, ...overrides }))
  const withName = (entryName: string): Uint8Array => buildZip([manifest([{ name: entryName, data }]), { name: entryName, data }])

  const good = goodArchive(nodeId)
  // Stored, so the entry's bytes lie in the zip verbatim and a flipped bit lands in them.
  const stored = buildZip([manifest([{ name, data }]), { name, data, method: 0 }])
  const flipped = stored.slice()
  flipped[Buffer.from(stored).indexOf(Buffer.from(data)) + Math.floor(data.length / 2)] ^= 0x10

  const zeros = new Uint8Array(20 * 1024 * 1024)
  const big = new Uint8Array(200_000).fill(0x41)
  const badLine = utf8(new TextDecoder().decode(data).replace(EVIL_KEY, 'evil..example!'))

  return [
    { what: 'truncated (last 40 bytes cut)', zip: good.subarray(0, good.length - 40), error: 'CorruptArchiveError' },
    { what: 'not a zip at all', zip: concat([utf8('PK'), new Uint8Array(64).fill(7)]), error: 'CorruptArchiveError' },
    { what: 'one bit flipped in the data', zip: flipped, error: 'CorruptArchiveError' },
    { what: 'a sha256 in the manifest that differs from the file', zip: buildZip([manifest([{ name, data }], { files: [{ name, size: data.length, entries: 1, sha256: 'ab'.repeat(32) }] }), { name, data }]), error: 'ChecksumMismatchError' },
    { what: 'a zip bomb: 20 MiB of zeros past the 100:1 ratio', zip: buildZip([manifest([{ name, data: zeros }]), { name, data: zeros }]), error: 'CompressionBombError' },
    { what: 'a zip bomb: an entry that inflates past its declared size', zip: buildZip([manifest([{ name, data: big, size: 100 }]), { name, data: big, size: 100 }]), error: 'CompressionBombError' },
    { what: 'path traversal with ../', zip: withName(`../${name}`), error: 'UnsafeEntryNameError' },
    { what: 'an absolute path', zip: withName(`/etc/${name}`), error: 'UnsafeEntryNameError' },
    { what: 'a backslash path', zip: withName(`..\\${name}`), error: 'UnsafeEntryNameError' },
    { what: 'two entries with one name', zip: buildZip([manifest([{ name, data }]), { name, data }, { name, data }]), error: 'DuplicateEntryError' },
    { what: 'a manifest over 64 KiB', zip: buildZip([manifest([{ name, data }], { padding: 'x'.repeat(70 * 1024) }), { name, data }]), error: 'ArchiveLimitError' },
    { what: 'archive format version 2', zip: buildZip([manifest([{ name, data }], { formatVersion: 2 }), { name, data }]), error: 'ManifestError' },
    { what: 'a list file with an invalid line', zip: buildZip([manifest([{ name, data: badLine }]), { name, data: badLine }]), error: 'DatasetDecodeError' }
  ]
}
