/**
 * The settings archive as a zip: `manifest.json` first, then one entry per dataset file.
 *
 * Reading trusts nothing. The central directory is parsed here, not by fflate, so every name,
 * count and declared size is checked before a single byte is inflated; inflation then counts the
 * real output and stops at the declared size, so a header that lies cannot make us allocate more
 * than the limits allow. The order of the checks is part of the format: protocol/archive-v1.md.
 */
import { createHash } from 'node:crypto'
import { crc32, inflateRawSync } from 'node:zlib'
import { knownPacked, packed } from './packed-file.js'
import { Zip, type ZipInputFile } from 'fflate'
import {
  ArchiveLimitError,
  ChecksumMismatchError,
  CompressionBombError,
  CorruptArchiveError,
  DuplicateEntryError,
  ManifestError,
  UnsafeEntryNameError
} from '../errors.js'
import { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './limits.js'
import {
  ARCHIVE_FORMAT,
  ARCHIVE_FORMAT_VERSION,
  MANIFEST_NAME,
  entryNameProblem,
  parseManifest,
  serializeManifest,
  validateManifest,
  type Manifest
} from './manifest.js'

/** What the caller supplies for a manifest; the format fields and the file list are filled in. */
export type ArchiveMeta = Omit<Manifest, 'format' | 'formatVersion' | 'files'>

/** One data file to pack. */
export interface ArchiveInputFile {
  /** Entry name inside the zip, e.g. `lists/whitelist.tsv`. */
  name: string
  /** The file's bytes, uncompressed. */
  data: Uint8Array
  /** Number of dataset entries in it, recorded in the manifest. */
  entries: number
  /** Deflate level of this entry, 0 to store it (default PACK_LEVEL). */
  level?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9
}

/** A read and fully verified archive. */
export interface UnpackedArchive {
  /** The validated manifest. */
  manifest: Manifest
  /** Every data file by entry name (the manifest itself is not included). */
  files: Map<string, Uint8Array>
  /** Each deflated data file's raw deflate stream, a view into the zip: kept deflated as it came, not deflated again. */
  deflated: Map<string, Uint8Array>
}

/**
 * Deflate level used when packing. Measured with zlib on the 121k-domain blacklist (4.6 MB as a
 * list file), medians of 5: level 4 takes 50-57 ms for 1,099,227 bytes, level 6 91 ms for
 * 1,083,447 (1.4 % smaller), level 1 25-37 ms for 1,181,660 (7.5 % larger).
 */
export const PACK_LEVEL = 4

const SIG_LOCAL = 0x04034b50
const SIG_CENTRAL = 0x02014b50
const SIG_EOCD = 0x06054b50
const EOCD_SIZE = 22
const CENTRAL_SIZE = 46
const LOCAL_SIZE = 30
const MAX_COMMENT = 0xffff
const FLAG_ENCRYPTED = 0x0001
const FLAG_UTF8 = 0x0800
const METHOD_STORED = 0
const METHOD_DEFLATE = 8
// DOS dates in zip headers cover 1980-2107; fflate accepts up to 2099.
const DOS_MIN_MS = Date.UTC(1980, 0, 2)
const DOS_MAX_MS = Date.UTC(2099, 11, 30)

/**
 * Builds an archive: a validated manifest (sizes and sha256 computed here) followed by the files
 * in the given order, deflated. Throws the same named errors a reader would for names, duplicates
 * and manifest fields, so we never write an archive that a peer would refuse for those reasons.
 */
export function packArchive (meta: ArchiveMeta, files: ArchiveInputFile[]): Uint8Array {
  const seen = new Set<string>()
  for (const f of files) {
    const problem = entryNameProblem(f.name)
    if (problem !== undefined) throw new UnsafeEntryNameError(`entry ${quote(f.name)}: unsafe name: ${problem}`)
    if (f.name === MANIFEST_NAME) throw new DuplicateEntryError(`entry ${quote(f.name)}: the name is reserved for the manifest`)
    const folded = f.name.toLowerCase()
    if (seen.has(folded)) throw new DuplicateEntryError(`entry ${quote(f.name)}: name given twice (letter case ignored)`)
    seen.add(folded)
  }
  const manifest = validateManifest({
    format: ARCHIVE_FORMAT,
    formatVersion: ARCHIVE_FORMAT_VERSION,
    agentVersion: meta.agentVersion,
    schemaVersion: meta.schemaVersion,
    kind: meta.kind,
    origin: meta.origin,
    base: meta.base,
    version: meta.version,
    createdAt: meta.createdAt,
    files: files.map(f => ({ name: f.name, size: f.data.length, entries: f.entries, sha256: packed(f.data).sha256 }))
  })
  // The entry time is the manifest's createdAt, so packing the same input twice gives equal bytes.
  const mtime = Math.min(Math.max(Date.parse(manifest.createdAt), DOS_MIN_MS), DOS_MAX_MS)
  return zipEntries([{ name: MANIFEST_NAME, data: serializeManifest(manifest), level: PACK_LEVEL }, ...files], mtime)
}

/**
 * Writes the zip with fflate's streaming Zip, which lays out the headers, data descriptors and
 * central directory; the data itself is deflated by Node's zlib and handed to fflate as a
 * ready-made entry stream: 43 ms instead of fflate's own ~130 ms for the 4.6 MB list of the
 * 121k-domain blacklist, and 1.5% smaller.
 */
function zipEntries (files: Array<Pick<ArchiveInputFile, 'name' | 'data' | 'level'>>, mtime: number): Uint8Array {
  const chunks: Uint8Array[] = []
  let failure = null as Error | null
  // With ready-made entries fflate's Zip calls back synchronously, within add() and end().
  const zip = new Zip((err, chunk) => {
    if (err !== null) failure = err
    else chunks.push(chunk)
  })
  for (const f of files) {
    const level = f.level ?? PACK_LEVEL
    const entry: ZipInputFile = { filename: f.name, size: f.data.length, crc: packed(f.data).crc, compression: level === 0 ? METHOD_STORED : METHOD_DEFLATE, mtime }
    zip.add(entry)
    entry.ondata?.(null, (level === 0 ? f.data : packed(f.data).deflated(level)) as Uint8Array<ArrayBuffer>, true)
  }
  zip.end()
  if (failure !== null) throw failure
  return Buffer.concat(chunks)
}

/**
 * Reads and verifies an archive, in the order protocol/archive-v1.md lays down: structure, names,
 * counts and declared sizes first, then the manifest, then each file inflated under a byte cap
 * and checked against CRC-32, size and sha256. Throws a subclass of ArchiveError naming the entry
 * and the problem; nothing is returned unless every check passed.
 */
export function unpackArchive (zip: Uint8Array, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): UnpackedArchive {
  const { entries, cdOffset } = readCentralDirectory(zip, limits)

  let total = 0
  for (const e of entries) total += e.size
  if (total > limits.maxTotalBytes) {
    throw new ArchiveLimitError(`entries declare ${total} bytes in total, the limit is ${limits.maxTotalBytes}`)
  }
  const byName = new Map(entries.map(e => [e.name, e]))
  const manifestEntry = byName.get(MANIFEST_NAME)
  if (manifestEntry === undefined) throw new ManifestError(`no ${MANIFEST_NAME} in the archive`)
  if (manifestEntry.size > limits.maxManifestBytes) {
    throw new ArchiveLimitError(`entry "${MANIFEST_NAME}" declares ${manifestEntry.size} bytes, the limit is ${limits.maxManifestBytes}`)
  }
  for (const e of entries) checkDeclaredRatio(e, limits)
  locateData(zip, entries, cdOffset)

  const manifest = parseManifest(inflateEntry(zip, manifestEntry, limits), limits)
  const listed = new Map(manifest.files.map(f => [f.name, f]))
  for (const e of entries) {
    if (e.name !== MANIFEST_NAME && !listed.has(e.name)) {
      throw new ManifestError(`entry ${quote(e.name)} is not listed in the manifest`)
    }
  }
  for (const f of manifest.files) {
    const e = byName.get(f.name)
    if (e === undefined) throw new ManifestError(`file ${quote(f.name)} is listed in the manifest but missing from the archive`)
    if (e.size !== f.size) {
      throw new ChecksumMismatchError(`entry ${quote(f.name)}: the zip declares ${e.size} bytes, the manifest ${f.size}`)
    }
  }

  const files = new Map<string, Uint8Array>()
  const deflated = new Map<string, Uint8Array>()
  for (const f of manifest.files) {
    const e = byName.get(f.name) as CentralEntry
    const data = inflateEntry(zip, e, limits)
    const digest = sha256Hex(data)
    if (digest !== f.sha256) throw new ChecksumMismatchError(`entry ${quote(f.name)}: sha256 is ${digest}, the manifest says ${f.sha256}`)
    files.set(f.name, data)
    if (e.method === METHOD_DEFLATE) deflated.set(f.name, zip.subarray(e.dataStart, e.dataEnd))
    knownPacked(data, digest, e.crc, deflated.get(f.name))
  }
  return { manifest, files, deflated }
}

/** Lower-case hex sha256 of some bytes, as the manifest records it. */
export function sha256Hex (data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

// One central-directory record, plus where its data lies once the local header was read.
interface CentralEntry {
  name: string
  nameBytes: Uint8Array
  flags: number
  method: number
  crc: number
  compressedSize: number
  size: number
  localOffset: number
  dataStart: number
  dataEnd: number
}

// Parses the end record and the central directory, checking names, duplicates and the entry
// count. Inflates nothing and reads no local header.
// eslint-disable-next-line max-lines-per-function -- one pass over the end record and each central entry, each bound checked where its field is read
function readCentralDirectory (zip: Uint8Array, limits: ArchiveLimits): { entries: CentralEntry[], cdOffset: number } {
  if (zip.length < EOCD_SIZE) throw new CorruptArchiveError(`not a zip: only ${zip.length} bytes`)
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength)
  const eocd = findEndRecord(zip, view)
  const disk = view.getUint16(eocd + 4, true)
  const cdDisk = view.getUint16(eocd + 6, true)
  const onDisk = view.getUint16(eocd + 8, true)
  const count = view.getUint16(eocd + 10, true)
  const cdSize = view.getUint32(eocd + 12, true)
  const cdOffset = view.getUint32(eocd + 16, true)
  if (count > limits.maxFiles) {
    throw new ArchiveLimitError(`archive has ${count} entries, the limit is ${limits.maxFiles}`)
  }
  if (disk !== 0 || cdDisk !== 0 || onDisk !== count) throw new CorruptArchiveError('multi-disk zip archives are not supported')
  if (cdSize === 0xffffffff || cdOffset === 0xffffffff) throw new CorruptArchiveError('ZIP64 archives are not supported')
  if (cdOffset + cdSize > eocd) {
    throw new CorruptArchiveError(`central directory (offset ${cdOffset}, ${cdSize} bytes) runs past the end record at ${eocd} (truncated?)`)
  }

  const entries: CentralEntry[] = []
  const exact = new Set<string>()
  const folded = new Map<string, string>()
  let p = cdOffset
  const end = cdOffset + cdSize
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_SIZE > end || view.getUint32(p, true) !== SIG_CENTRAL) {
      throw new CorruptArchiveError(`central directory record ${i + 1} of ${count} is missing or damaged`)
    }
    const flags = view.getUint16(p + 8, true)
    const method = view.getUint16(p + 10, true)
    const crc = view.getUint32(p + 16, true)
    const compressedSize = view.getUint32(p + 20, true)
    const size = view.getUint32(p + 24, true)
    const nameLen = view.getUint16(p + 28, true)
    const extraLen = view.getUint16(p + 30, true)
    const commentLen = view.getUint16(p + 32, true)
    const localOffset = view.getUint32(p + 42, true)
    const next = p + CENTRAL_SIZE + nameLen + extraLen + commentLen
    if (next > end) throw new CorruptArchiveError(`central directory record ${i + 1} of ${count} runs past the directory`)
    const nameBytes = zip.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen)
    const name = decodeName(nameBytes, flags, i + 1)
    const problem = entryNameProblem(name)
    if (problem !== undefined) throw new UnsafeEntryNameError(`entry ${quote(name)}: unsafe name: ${problem}`)
    if (exact.has(name)) throw new DuplicateEntryError(`entry ${quote(name)} appears more than once`)
    // Two names equal but for case are one file on Windows and macOS: refuse them as well.
    const other = folded.get(name.toLowerCase())
    if (other !== undefined) throw new DuplicateEntryError(`entry ${quote(name)} differs from ${quote(other)} only in letter case`)
    exact.add(name)
    folded.set(name.toLowerCase(), name)
    if ((flags & FLAG_ENCRYPTED) !== 0) throw new CorruptArchiveError(`entry ${quote(name)}: encrypted entries are not supported`)
    if (method !== METHOD_STORED && method !== METHOD_DEFLATE) {
      throw new CorruptArchiveError(`entry ${quote(name)}: unsupported compression method ${method}`)
    }
    if (size === 0xffffffff || compressedSize === 0xffffffff || localOffset === 0xffffffff) {
      throw new CorruptArchiveError(`entry ${quote(name)}: ZIP64 entries are not supported`)
    }
    if (method === METHOD_STORED && compressedSize !== size) {
      throw new CorruptArchiveError(`entry ${quote(name)}: stored entry declares ${size} bytes but holds ${compressedSize}`)
    }
    entries.push({ name, nameBytes, flags, method, crc, compressedSize, size, localOffset, dataStart: 0, dataEnd: 0 })
    p = next
  }
  if (p !== end) throw new CorruptArchiveError(`central directory holds ${end - p} bytes after its ${count} records`)
  return { entries, cdOffset }
}

// The end-of-central-directory record is the last 22 bytes plus a comment of up to 64 KiB; the
// comment length must reach exactly to the end, so a signature inside a comment cannot fool us.
function findEndRecord (zip: Uint8Array, view: DataView): number {
  const lowest = Math.max(0, zip.length - EOCD_SIZE - MAX_COMMENT)
  for (let i = zip.length - EOCD_SIZE; i >= lowest; i--) {
    if (view.getUint32(i, true) === SIG_EOCD && i + EOCD_SIZE + view.getUint16(i + 20, true) === zip.length) return i
  }
  throw new CorruptArchiveError('not a zip or truncated: no end-of-central-directory record')
}

function decodeName (bytes: Uint8Array, flags: number, index: number): string {
  if ((flags & FLAG_UTF8) !== 0) {
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
    } catch (err) {
      throw new UnsafeEntryNameError(`entry ${index}: name is not valid UTF-8`, { cause: err })
    }
  }
  // Without the UTF-8 flag a name is CP437, which readers disagree on: allow ASCII only.
  let name = ''
  for (const b of bytes) {
    if (b >= 0x80) throw new UnsafeEntryNameError(`entry ${index}: name has non-ASCII bytes but no UTF-8 flag`)
    name += String.fromCharCode(b)
  }
  return name
}

function checkDeclaredRatio (e: CentralEntry, limits: ArchiveLimits): void {
  if (e.size > limits.ratioMinBytes && e.size > e.compressedSize * limits.maxRatio) {
    throw new CompressionBombError(`entry ${quote(e.name)}: declares ${e.size} bytes from ${e.compressedSize} compressed, ` +
      `past the ${limits.maxRatio}:1 ratio cap`)
  }
}

// Reads each local header to find where the data lies. The local name must equal the central one
// (readers that use local headers must not see another file), and entries must not overlap: an
// overlapping layout lets a few compressed bytes count as many files (a known zip-bomb trick).
// All local data must lie before the central directory.
function locateData (zip: Uint8Array, entries: CentralEntry[], cdOffset: number): void {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength)
  for (const e of entries) {
    const p = e.localOffset
    if (p + LOCAL_SIZE > cdOffset || view.getUint32(p, true) !== SIG_LOCAL) {
      throw new CorruptArchiveError(`entry ${quote(e.name)}: no local header at offset ${p}`)
    }
    const method = view.getUint16(p + 8, true)
    const nameLen = view.getUint16(p + 26, true)
    const extraLen = view.getUint16(p + 28, true)
    if (p + LOCAL_SIZE + nameLen + extraLen > cdOffset) {
      throw new CorruptArchiveError(`entry ${quote(e.name)}: local header runs into the central directory`)
    }
    const localName = zip.subarray(p + LOCAL_SIZE, p + LOCAL_SIZE + nameLen)
    if (method !== e.method) throw new CorruptArchiveError(`entry ${quote(e.name)}: local header says compression method ${method}, the directory ${e.method}`)
    if (!sameBytes(localName, e.nameBytes)) throw new CorruptArchiveError(`entry ${quote(e.name)}: local header has another name`)
    e.dataStart = p + LOCAL_SIZE + nameLen + extraLen
    e.dataEnd = e.dataStart + e.compressedSize
    if (e.dataEnd > cdOffset) {
      throw new CorruptArchiveError(`entry ${quote(e.name)}: data runs into the central directory (truncated?)`)
    }
  }
  const sorted = [...entries].sort((a, b) => a.localOffset - b.localOffset)
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].localOffset < sorted[i - 1].dataEnd) {
      throw new CorruptArchiveError(`entry ${quote(sorted[i].name)} overlaps entry ${quote(sorted[i - 1].name)}`)
    }
  }
}

// Inflates one entry (Node's zlib: 5x fflate) into one buffer of the declared size (16 KB chunks joined: 2-3x the time
// under the agent's malloc settings; pages unwritten cost nothing), stopping at once past that size or the ratio
// cap (zlib's output limit: it never holds more than the cap), then checks length and CRC-32.
function inflateEntry (zip: Uint8Array, e: CentralEntry, limits: ArchiveLimits): Uint8Array {
  const src = zip.subarray(e.dataStart, e.dataEnd)
  let out: Uint8Array
  if (e.method === METHOD_STORED) {
    out = src.slice()
  } else {
    // Redundant with the declared-ratio check plus the size cap, kept so the ratio holds if one changes.
    const ratioCap = Math.max(limits.ratioMinBytes, e.compressedSize * limits.maxRatio)
    const cap = Math.min(e.size, ratioCap)
    let inflated: Buffer
    try {
      inflated = inflateRawSync(src, { maxOutputLength: Math.max(cap, 1), chunkSize: Math.max(cap, 64) })
    } catch (err: any) {
      if (err?.code !== 'ERR_BUFFER_TOO_LARGE') {
        throw new CorruptArchiveError(`entry ${quote(e.name)}: compressed data is corrupt (${(err as Error).message})`, { cause: err })
      }
      if (cap === e.size) throw new CompressionBombError(`entry ${quote(e.name)}: inflates past its declared ${e.size} bytes`)
      throw new CompressionBombError(`entry ${quote(e.name)}: inflates past the ${limits.maxRatio}:1 ratio cap ` +
        `(over ${cap} bytes from ${e.compressedSize})`)
    }
    // A plain Uint8Array of its own memory, as for every other entry (a small Buffer may share
    // a pool with unrelated bytes).
    out = inflated.byteOffset === 0 && inflated.buffer.byteLength === inflated.length
      ? new Uint8Array(inflated.buffer, 0, inflated.length)
      : new Uint8Array(inflated)
    if (out.length > e.size) throw new CompressionBombError(`entry ${quote(e.name)}: inflates past its declared ${e.size} bytes`)
    if (out.length !== e.size) {
      throw new CorruptArchiveError(`entry ${quote(e.name)}: inflates to ${out.length} bytes, the zip declares ${e.size}`)
    }
  }
  const actual = crc32(out) >>> 0
  if (actual !== e.crc) {
    throw new CorruptArchiveError(`entry ${quote(e.name)}: CRC-32 is ${hex32(actual)}, the zip declares ${hex32(e.crc)} (data corrupt)`)
  }
  return out
}

function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function hex32 (n: number): string {
  return n.toString(16).padStart(8, '0')
}

// Entry names come from the peer: JSON quoting shows control characters instead of printing them.
function quote (name: string): string {
  const q = JSON.stringify(name)
  return q.length > 120 ? `${q.slice(0, 117)}..."` : q
}
