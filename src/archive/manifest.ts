/**
 * The archive manifest: `manifest.json`, the first entry of every settings archive. It says what
 * the archive is (format, versions, full or delta, which central version) and lists every other
 * entry with its size, entry count and sha256, so a reader can refuse an archive before it
 * applies anything. Parsing is strict: an unknown field or a wrong type is an error, never a
 * default, because a manifest we half-understand could make us apply the wrong data.
 */
import { SCHEMA_VERSION } from '../constants.js'
import { ArchiveLimitError, ManifestError } from '../errors.js'
import { compareVersions, type Version } from '../version.js'
import { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './limits.js'

/** Name of the manifest entry inside the zip. */
export const MANIFEST_NAME = 'manifest.json'

/** Value of the manifest's `format` field. */
export const ARCHIVE_FORMAT = 'spamsync-archive'

/** The archive format version this code writes and reads. */
export const ARCHIVE_FORMAT_VERSION = 1

/** What an archive holds: the whole state, or only the changes since `base`. */
export type ArchiveKind = 'full' | 'delta'

/** One data file of an archive as the manifest declares it. */
export interface ManifestFile {
  /** Entry name inside the zip (a relative path, see `entryNameProblem`). */
  name: string
  /** Uncompressed size in bytes. */
  size: number
  /** Number of dataset entries (list entries, Bayes tokens) in the file. */
  entries: number
  /** Lower-case hex sha256 of the uncompressed bytes. */
  sha256: string
}

/** Contents of `manifest.json`. */
export interface Manifest {
  /** Always `spamsync-archive`. */
  format: typeof ARCHIVE_FORMAT
  /** Always 1 for this format; any other value is refused. */
  formatVersion: typeof ARCHIVE_FORMAT_VERSION
  /** Version of the agent that wrote the archive (package.json `version`). */
  agentVersion: string
  /** Settings schema version; must equal SCHEMA_VERSION of the reader. */
  schemaVersion: number
  /** Full state, or changes since `base`. */
  kind: ArchiveKind
  /** Node id of the writer. */
  origin: string
  /** For a delta, the version the changes are relative to; null for a full archive. */
  base: Version | null
  /** The central version this archive represents; null for a node's local export or upload. */
  version: Version | null
  /** When the archive was written, ISO 8601 with a zone (`Date.prototype.toISOString`). */
  createdAt: string
  /** Every entry of the zip except the manifest, in archive order. */
  files: ManifestFile[]
}

const MANIFEST_KEYS = ['format', 'formatVersion', 'agentVersion', 'schemaVersion', 'kind', 'origin',
  'base', 'version', 'createdAt', 'files']
const FILE_KEYS = ['name', 'size', 'entries', 'sha256']
const VERSION_KEYS = ['term', 'seq']
const MAX_NAME_LENGTH = 255
const MAX_TEXT_LENGTH = 256
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/
const SHA256_HEX = /^[0-9a-f]{64}$/
// C0 controls and DEL: no legitimate name or id holds one, and they can hide text in logs.
// eslint-disable-next-line no-control-regex -- control characters are what this finds
const CONTROL = /[\u0000-\u001f\u007f]/

/**
 * Why an entry name is unsafe, or undefined when it is safe. A safe name is a relative path of
 * non-empty segments, none `.` or `..`, with no backslash, colon or control character, so no
 * reader on any system can resolve it outside the directory it extracts to.
 */
export function entryNameProblem (name: string): string | undefined {
  if (name.length === 0) return 'empty name'
  if (name.length > MAX_NAME_LENGTH) return `longer than ${MAX_NAME_LENGTH} characters`
  if (name.includes('\\')) return 'contains a backslash'
  if (name.startsWith('/')) return 'absolute path'
  if (/^[A-Za-z]:/.test(name)) return 'absolute path with a drive letter'
  if (CONTROL.test(name)) return 'contains a control character'
  const segments = name.split('/')
  if (segments.includes('..')) return "contains a '..' segment"
  if (name.endsWith('/')) return 'directory entry'
  if (segments.includes('.')) return "contains a '.' segment"
  if (segments.includes('')) return 'contains an empty path segment'
  // Colons are drive letters and NTFS alternate data streams on Windows.
  if (name.includes(':')) return 'contains a colon'
  return undefined
}

/**
 * Parses and validates the bytes of `manifest.json`. Throws ArchiveLimitError when it is larger
 * than `limits.maxManifestBytes`, ManifestError for anything else wrong with it.
 */
export function parseManifest (bytes: Uint8Array, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Manifest {
  if (bytes.length > limits.maxManifestBytes) {
    throw new ArchiveLimitError(`entry "${MANIFEST_NAME}" is ${bytes.length} bytes, the limit is ${limits.maxManifestBytes}`)
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch (err) {
    throw new ManifestError(`${MANIFEST_NAME} is not valid UTF-8`, { cause: err })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new ManifestError(`${MANIFEST_NAME} is not valid JSON: ${(err as Error).message}`, { cause: err })
  }
  return validateManifest(value, limits)
}

/**
 * Checks that a parsed JSON value is a manifest this agent can read and returns it, typed.
 * The format and version fields are checked first so that a newer format is reported as such,
 * not as a list of fields we do not know.
 */
// eslint-disable-next-line max-lines-per-function -- every field of the manifest checked in one place, in the order the errors must be reported
export function validateManifest (value: unknown, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Manifest {
  const m = record(value, 'manifest')
  if (m.format !== ARCHIVE_FORMAT) {
    throw new ManifestError(`not a spamsync archive: format is ${show(m.format)}, expected "${ARCHIVE_FORMAT}"`)
  }
  if (typeof m.formatVersion !== 'number' || !Number.isSafeInteger(m.formatVersion)) {
    throw new ManifestError(`formatVersion must be an integer, got ${show(m.formatVersion)}`)
  }
  if (m.formatVersion !== ARCHIVE_FORMAT_VERSION) {
    throw new ManifestError(`unsupported archive format version ${m.formatVersion} (this agent reads version ${ARCHIVE_FORMAT_VERSION})`)
  }
  onlyKeys(m, MANIFEST_KEYS, 'manifest')
  const schemaVersion = count(m.schemaVersion, 'schemaVersion')
  if (schemaVersion !== SCHEMA_VERSION) {
    throw new ManifestError(`unsupported settings schema version ${schemaVersion} (this agent uses ${SCHEMA_VERSION})`)
  }
  const agentVersion = text(m.agentVersion, 'agentVersion')
  if (m.kind !== 'full' && m.kind !== 'delta') {
    throw new ManifestError(`kind must be "full" or "delta", got ${show(m.kind)}`)
  }
  const kind: ArchiveKind = m.kind
  const origin = text(m.origin, 'origin')
  if (m.base === undefined) throw new ManifestError('base is missing (use null for none)')
  if (m.version === undefined) throw new ManifestError('version is missing (use null for none)')
  const base = m.base === null ? null : version(m.base, 'base')
  const ver = m.version === null ? null : version(m.version, 'version')
  if (kind === 'full' && base !== null) throw new ManifestError('base must be null in a full archive')
  if (kind === 'delta' && base === null) throw new ManifestError('base is required in a delta archive')
  if (base !== null && ver !== null && compareVersions(base, ver) > 0) {
    throw new ManifestError(`base ${base.term}.${base.seq} is newer than version ${ver.term}.${ver.seq}`)
  }
  if (typeof m.createdAt !== 'string' || !ISO_DATE.test(m.createdAt) || Number.isNaN(Date.parse(m.createdAt))) {
    throw new ManifestError(`createdAt must be an ISO 8601 date-time with a zone, got ${show(m.createdAt)}`)
  }
  const createdAt = m.createdAt
  if (!Array.isArray(m.files)) throw new ManifestError(`files must be an array, got ${show(m.files)}`)
  // The zip holds the manifest too, so at most maxFiles - 1 data files can be present.
  if (m.files.length > limits.maxFiles - 1) {
    throw new ManifestError(`files lists ${m.files.length} files, at most ${limits.maxFiles - 1} are allowed`)
  }
  const seen = new Set<string>()
  const files = m.files.map((raw: unknown, i: number): ManifestFile => {
    const where = `files[${i}]`
    const f = record(raw, where)
    onlyKeys(f, FILE_KEYS, where)
    if (typeof f.name !== 'string') throw new ManifestError(`${where}.name must be a string, got ${show(f.name)}`)
    const problem = entryNameProblem(f.name)
    if (problem !== undefined) throw new ManifestError(`${where}.name ${JSON.stringify(f.name)} is unsafe: ${problem}`)
    if (f.name === MANIFEST_NAME) throw new ManifestError(`${where}.name must not be "${MANIFEST_NAME}"`)
    if (seen.has(f.name)) throw new ManifestError(`${where}.name ${JSON.stringify(f.name)} is listed twice`)
    seen.add(f.name)
    const size = count(f.size, `${where}.size`)
    const entries = count(f.entries, `${where}.entries`)
    if (typeof f.sha256 !== 'string' || !SHA256_HEX.test(f.sha256)) {
      throw new ManifestError(`${where}.sha256 must be 64 lower-case hex digits, got ${show(f.sha256)}`)
    }
    return { name: f.name, size, entries, sha256: f.sha256 }
  })
  return {
    format: ARCHIVE_FORMAT,
    formatVersion: ARCHIVE_FORMAT_VERSION,
    agentVersion,
    schemaVersion,
    kind,
    origin,
    base,
    version: ver,
    createdAt,
    files
  }
}

/** The bytes of `manifest.json` for a manifest: indented JSON, fields in declaration order. */
export function serializeManifest (manifest: Manifest): Uint8Array {
  const ordered: Manifest = {
    format: manifest.format,
    formatVersion: manifest.formatVersion,
    agentVersion: manifest.agentVersion,
    schemaVersion: manifest.schemaVersion,
    kind: manifest.kind,
    origin: manifest.origin,
    base: manifest.base === null ? null : { term: manifest.base.term, seq: manifest.base.seq },
    version: manifest.version === null ? null : { term: manifest.version.term, seq: manifest.version.seq },
    createdAt: manifest.createdAt,
    files: manifest.files.map(f => ({ name: f.name, size: f.size, entries: f.entries, sha256: f.sha256 }))
  }
  return new TextEncoder().encode(JSON.stringify(ordered, null, 2) + '\n')
}

function record (value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ManifestError(`${where} must be a JSON object, got ${show(value)}`)
  }
  return value as Record<string, unknown>
}

function onlyKeys (obj: Record<string, unknown>, allowed: string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new ManifestError(`${where} has an unknown field ${JSON.stringify(key)}`)
  }
}

function count (value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ManifestError(`${where} must be a non-negative integer, got ${show(value)}`)
  }
  return value
}

function text (value: unknown, where: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TEXT_LENGTH || CONTROL.test(value)) {
    throw new ManifestError(`${where} must be a non-empty string of at most ${MAX_TEXT_LENGTH} printable characters, got ${show(value)}`)
  }
  return value
}

function version (value: unknown, where: string): Version {
  const v = record(value, where)
  onlyKeys(v, VERSION_KEYS, where)
  return { term: count(v.term, `${where}.term`), seq: count(v.seq, `${where}.seq`) }
}

// Quotes a value for an error message without letting a huge or hostile value flood the log.
function show (value: unknown): string {
  if (value === undefined) return 'nothing'
  let s: string
  try {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a function or symbol shows as String gives it
    s = JSON.stringify(value) ?? String(value)
  } catch {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a cycle or a BigInt: String is the best left
    s = String(value)
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}
