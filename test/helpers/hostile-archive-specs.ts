/**
 * Archive contents a hostile peer uploads or serves: manifest fields, list entries and their
 * stamps, Bayes contributions, packed into a sound zip (or random bytes) so cases reach the
 * archive's decoder.
 */
import fc from 'fast-check'
import { AGENT_VERSION, LIST_DATASETS, SCHEMA_VERSION, type ListDataset } from '../../src/constants.js'
import { encodeEntries, LIST_HEADER } from '../../src/archive/list-codec.js'
import { encodeBayes, type BayesContribution } from '../../src/archive/bayes-codec.js'
import { tokensOf, MAX_COUNT } from '../../src/crdt/bayes-counters.js'
import { archiveFileName, BAYES_ARCHIVE_FILE } from '../../src/sync/settings-archive.js'
import type { Entry } from '../../src/crdt/lww-set.js'
import { buildZip, manifestEntry, sha256 } from '../unit/archive/zip-fixtures.js'
import { type HostileContext, nastyText } from './hostile-fields.js'

// ---- archive contents ----

const KEYS = Array.from({ length: 24 }, (_, i) => `k${i}.fuzz.example`).concat(['fuzz@example.com', '192.0.2.66', '2001:db8::/48', '*.fuzz.example'])

/** The node id of a stamp or a Bayes contribution: the uploader's own, or forged. */
function ownerId (ctx: HostileContext): fc.Arbitrary<string> {
  return fc.oneof({ weight: 6, arbitrary: fc.constant(ctx.hostileId) }, { weight: 3, arbitrary: fc.constantFrom(...ctx.honestIds) }, { weight: 1, arbitrary: fc.constantFrom('n', 'x'.repeat(300)) })
}

const SAFE_EXTREMES = [0, 1, 2 ** 31, 2 ** 32, 2 ** 48, Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER]

/** A list entry as generated: its wall time is relative to when it is sent, or an absolute extreme. */
export interface SpecEntry {
  key: string
  value: string
  present: boolean
  wall: { fromNow: number } | { at: number }
  counter: number
  nodeId: string
}

function entry (ctx: HostileContext): fc.Arbitrary<SpecEntry> {
  return fc.record({
    key: fc.constantFrom(...KEYS),
    value: fc.constantFrom('', 'OK', 'REJECT fuzz'),
    present: fc.boolean(),
    wall: fc.oneof(
      { weight: 4, arbitrary: fc.oneof(fc.integer({ min: -86_400_000, max: 0 }), fc.constantFrom(1_000, 60_000, 3_600_000)).map(fromNow => ({ fromNow })) },
      { weight: 1, arbitrary: fc.constantFrom(...SAFE_EXTREMES).map(at => ({ at })) }
    ),
    counter: fc.oneof({ weight: 2, arbitrary: fc.nat(10) }, { weight: 1, arbitrary: fc.constantFrom(...SAFE_EXTREMES) }),
    nodeId: ownerId(ctx)
  })
}

const count = fc.oneof({ weight: 3, arbitrary: fc.nat(50) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 2 ** 31, MAX_COUNT - 1, MAX_COUNT) })

function contribution (ctx: HostileContext): fc.Arbitrary<BayesContribution> {
  return fc.record({
    nodeId: ownerId(ctx),
    numSpam: count,
    numHam: count,
    tokens: fc.uniqueArray(fc.tuple(fc.stringMatching(/^[0-9a-f]{10}$/), fc.record({ spam: count, ham: count, atime: count })), { selector: ([t]) => t, maxLength: 8 }),
    seen: fc.array(fc.tuple(fc.stringMatching(/^<[a-z0-9]{1,12}@fuzz>$/), fc.constantFrom('s' as const, 'h' as const)), { maxLength: 3 })
  }).map(c => ({ nodeId: c.nodeId, db: { numSpam: c.numSpam, numHam: c.numHam, tokens: tokensOf(c.tokens), seen: new Map(c.seen) } }))
}

/** A JSON number of a manifest: an extreme, negative, fractional or huge one. */
const jsonNumber = fc.constantFrom(...SAFE_EXTREMES, 2 ** 53, 2 ** 64, 1e300, -1, 0.5)
export const jsonVersion = fc.oneof(
  fc.record({ term: fc.oneof(fc.nat(20), jsonNumber), seq: fc.oneof(fc.nat(20), jsonNumber) }),
  fc.constantFrom(null, 'x', [], { term: 1 }, { term: 1, seq: 1, more: 1 })
)

/** The parts of an archive a peer controls, before they are packed. */
export interface ArchiveSpec {
  lists: Array<[ListDataset, SpecEntry[]]>
  bayes: BayesContribution[]
  /** Manifest fields that replace the ones an honest uploader writes. */
  manifest: Record<string, unknown>
}

/** Wild values of the manifest's fields (its file list always matches the files). */
function manifestField (ctx: HostileContext): fc.Arbitrary<[string, unknown]> {
  const latin1 = (v: string | Uint8Array): string => typeof v === 'string' ? v : Buffer.from(v).toString('latin1')
  const f = (name: string, v: fc.Arbitrary<unknown>): fc.Arbitrary<[string, unknown]> => v.map(x => [name, x])
  return fc.oneof(
    f('agentVersion', nastyText.map(latin1)),
    f('schemaVersion', fc.oneof(jsonNumber, fc.constant('1'))),
    f('kind', fc.constantFrom('delta', 'other', '')),
    f('origin', fc.oneof(fc.constantFrom(...ctx.honestIds), nastyText.map(latin1))),
    f('base', jsonVersion),
    f('version', jsonVersion),
    f('createdAt', fc.constantFrom('', '275760-09-13T00:00:00.000Z', '9999-12-31T23:59:59.999999999+99:99', '1970-01-01T00:00:00Z')),
    f('formatVersion', fc.constantFrom(2, 0, -1, '1'))
  )
}

export function archiveSpec (ctx: HostileContext): fc.Arbitrary<ArchiveSpec> {
  return fc.record({
    lists: fc.uniqueArray(fc.tuple(fc.constantFrom(...LIST_DATASETS), fc.uniqueArray(entry(ctx), { selector: e => e.key, maxLength: 6 })), { selector: ([ds]) => ds, maxLength: 3 }),
    bayes: fc.uniqueArray(contribution(ctx), { selector: c => c.nodeId, maxLength: 2 }),
    manifest: fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(manifestField(ctx), { minLength: 1, maxLength: 2 }) }).map(fs => Object.fromEntries(fs))
  })
}

/**
 * A list file as the codec writes it, without the codec's bounds: the agents' encoder refuses to
 * write a stamp past its bounds (counter 2^53, a wall time past the year 9999), and a hostile
 * peer's such stamps must still reach the agents' decoder.
 */
function listFileUnchecked (entries: Entry[]): { data: Uint8Array, entries: number } {
  try {
    return encodeEntries(entries)
  } catch (err) {
    if (!(err instanceof RangeError)) throw err
  }
  const digits = (n: number): string => Number.isInteger(n) ? BigInt(n).toString() : String(n)
  const ids = [...new Set(entries.map(e => e.stamp.nodeId))]
  const sorted = [...entries].sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
  const lines = [
    LIST_HEADER,
    ...ids.map((id, i) => `n ${i} ${id}`),
    ...sorted.map(e => `${e.key}\t${e.present ? 1 : 0}\t${digits(e.stamp.wallMs)}\t${digits(e.stamp.counter)}\t${ids.indexOf(e.stamp.nodeId)}\t${e.value}`)
  ]
  return { data: new TextEncoder().encode(lines.join('\n') + '\n'), entries: entries.length }
}

/** Packs an archive spec: a sound zip whose manifest declares the files' real sizes, counts and sha256. */
export function packSpec (spec: ArchiveSpec, ctx: HostileContext): Uint8Array {
  const now = Date.now()
  const stamped = (e: SpecEntry): Entry => ({ key: e.key, value: e.value, present: e.present, stamp: { wallMs: 'at' in e.wall ? e.wall.at : now + e.wall.fromNow, counter: e.counter, nodeId: e.nodeId } })
  const files = spec.lists.map(([ds, entries]) => ({ name: archiveFileName(ds), ...listFileUnchecked(entries.map(stamped)) }))
  if (spec.bayes.length > 0) files.push({ name: BAYES_ARCHIVE_FILE, ...encodeBayes(spec.bayes) })
  const manifest = {
    format: 'spamsync-archive',
    formatVersion: 1,
    agentVersion: AGENT_VERSION,
    schemaVersion: SCHEMA_VERSION,
    kind: 'full',
    origin: ctx.hostileId,
    base: null,
    version: null,
    createdAt: new Date().toISOString(),
    files: files.map(f => ({ name: f.name, size: f.data.byteLength, entries: f.entries, sha256: sha256(f.data) })),
    ...spec.manifest
  }
  return buildZip([manifestEntry(manifest), ...files.map(f => ({ name: f.name, data: f.data }))])
}

/** Archive bytes: a packed spec (mostly), or random bytes. */
export type Body = { archive: ArchiveSpec } | { raw: Uint8Array }

export function body (ctx: HostileContext): fc.Arbitrary<Body> {
  return fc.oneof({ weight: 8, arbitrary: archiveSpec(ctx).map(archive => ({ archive })) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2048 }).map(raw => ({ raw })) })
}

/** The bytes of a body. */
export function bodyBytes (b: Body, ctx: HostileContext): Uint8Array {
  return 'raw' in b ? b.raw : packSpec(b.archive, ctx)
}
