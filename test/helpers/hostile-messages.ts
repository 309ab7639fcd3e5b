/**
 * Generators for everything a peer that holds the cluster key can send: every field of every
 * message of protocol/spamsync.proto (beacons, hellos, upload and fetch requests, and the
 * answers a peer gives when it is asked: UploadReady, UploadResult, FetchResponse), the JSON
 * control request, and archive contents (manifest fields, list entries and their stamps, Bayes
 * contributions). Each field is mostly a value an honest agent would send, so cases get past the
 * first check, and otherwise an extreme one: 0, 2^31, 2^32, 2^53 - 1, 2^53, 2^64 - 1, a random
 * 64-bit number, an empty, huge or control-character string, another node's id, random bytes.
 *
 * Messages are encoded by a small protobuf writer of this file, not by the generated codecs,
 * which refuse to encode a number above 2^53 - 1: a peer's bytes are not bound by our encoder.
 */
import fc from 'fast-check'
import { AGENT_VERSION, LIST_DATASETS, PROTOCOL_VERSION, SCHEMA_VERSION, type ListDataset } from '../../src/constants.js'
import { encodeEntries, LIST_HEADER } from '../../src/archive/list-codec.js'
import { encodeBayes, type BayesContribution } from '../../src/archive/bayes-codec.js'
import { tokensOf, MAX_COUNT } from '../../src/crdt/bayes-counters.js'
import { archiveFileName, BAYES_ARCHIVE_FILE } from '../../src/sync/settings-archive.js'
import type { Entry } from '../../src/crdt/lww-set.js'
import { buildZip, manifestEntry, sha256 } from '../unit/archive/zip-fixtures.js'

// ---- a protobuf writer that takes any value ----

/** Field types of the schemas below; a nested schema is a message field. */
type FieldType = 'varint' | 'sint32' | 'bytes' | Schema
/** Field name -> [field number, type]; an array value in a message is a repeated field. */
interface Schema { [field: string]: readonly [number, FieldType] }
/** A message as generated: field values are bigints, strings, bytes, nested messages or arrays. */
export type Message = { [field: string]: unknown }

const VERSION: Schema = { term: [1, 'varint'], seq: [2, 'varint'] }
const ARCHIVE_ID: Schema = { version: [1, VERSION], size: [2, 'varint'], sha256: [3, 'bytes'] }
const DATASET_COUNT: Schema = { dataset: [1, 'bytes'], count: [2, 'varint'] }
const NODE_HEALTH: Schema = {
  lastSyncMs: [1, 'varint'], lagMs: [2, 'varint'], errorCount: [3, 'varint'], lastError: [4, 'bytes'], invalidLines: [5, DATASET_COUNT],
  outputsOk: [6, 'varint'], outputsFailed: [7, 'varint'], hooksOk: [8, 'varint'], hooksFailed: [9, 'varint'], uptimeS: [10, 'varint'],
  lastErrorMs: [11, 'varint'], outputsFailing: [12, 'varint'], hooksFailing: [13, 'varint']
}
const HELLO: Schema = { nodeId: [1, 'bytes'], protocolVersion: [2, 'varint'], schemaVersion: [3, 'varint'], agentVersion: [4, 'bytes'] }

/** The schemas of protocol/spamsync.proto, field for field. */
export const SCHEMAS = {
  Beacon: {
    nodeId: [1, 'bytes'], priority: [2, 'sint32'], role: [3, 'varint'], term: [4, 'varint'], masterId: [5, 'bytes'],
    version: [6, VERSION], appliedVersion: [7, VERSION], protocolVersion: [8, 'varint'], schemaVersion: [9, 'varint'],
    agentVersion: [10, 'bytes'], pin: [11, 'varint'], addrs: [12, 'bytes'], fullArchive: [13, ARCHIVE_ID], wallMs: [20, 'varint'],
    name: [21, 'bytes'], health: [22, NODE_HEALTH]
  },
  UploadRequest: { hello: [1, HELLO], kind: [2, 'varint'], baseTerm: [3, 'varint'], baseLseq: [4, 'varint'], size: [5, 'varint'], sha256: [6, 'bytes'] },
  UploadReady: { status: [1, 'varint'], reason: [2, 'bytes'], offset: [3, 'varint'] },
  UploadResult: { status: [1, 'varint'], reason: [2, 'bytes'], version: [3, VERSION] },
  FetchRequest: { hello: [1, HELLO], since: [2, VERSION], want: [3, VERSION], archive: [4, ARCHIVE_ID], fanOut: [5, 'varint'] },
  FetchResponse: {
    status: [1, 'varint'], reason: [2, 'bytes'], kind: [3, 'varint'], base: [4, VERSION], version: [5, VERSION],
    size: [6, 'varint'], sha256: [7, 'bytes'], sources: [8, 'bytes']
  }
} as const satisfies Record<string, Schema>

function varint (n: bigint, out: number[]): void {
  let v = BigInt.asUintN(64, n)
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80)
    v >>= 7n
  }
  out.push(Number(v))
}

function bytesOf (v: unknown): Uint8Array {
  return typeof v === 'string' ? new TextEncoder().encode(v) : v as Uint8Array
}

/** Encodes `msg` by `schema`; undefined fields are left out. Never refuses a value. */
export function encodeMessage (schema: Schema, msg: Message): Uint8Array {
  const out: number[] = []
  for (const [name, [num, type]] of Object.entries(schema)) {
    const value = msg[name]
    if (value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) {
      if (type === 'varint' || type === 'sint32') {
        const n = BigInt(v as bigint | boolean)
        varint(BigInt(num << 3), out)
        // sint32 is zigzag-encoded: (n << 1) ^ (n >> 31), taken as 32 bits.
        varint(type === 'sint32' ? BigInt.asUintN(32, (n << 1n) ^ (n >> 31n)) : n, out)
      } else {
        // Bytes given for a nested message are sent as they are: a malformed submessage.
        const data = type === 'bytes' || v instanceof Uint8Array ? bytesOf(v) : encodeMessage(type, v as Message)
        varint(BigInt((num << 3) | 2), out)
        varint(BigInt(data.byteLength), out)
        for (const b of data) out.push(b)
      }
    }
  }
  return Uint8Array.from(out)
}

/** One frame a hostile peer sends: a message of the schema, or bytes that need not be one. */
export type Frame = { msg: Message } | { raw: Uint8Array }

/** The bytes of a frame of message type `type`. */
export function encodeFrame (type: keyof typeof SCHEMAS, frame: Frame): Uint8Array {
  return 'raw' in frame ? frame.raw : encodeMessage(SCHEMAS[type], frame.msg)
}

// ---- field values ----

/** Ids the generators draw from: the honest nodes' and the hostile peer's own. */
export interface HostileContext {
  hostileId: string
  honestIds: string[]
}

/** A field's values: what an honest agent sends, and what a hostile one may send instead. */
interface Field {
  plain: fc.Arbitrary<unknown>
  wild: fc.Arbitrary<unknown>
}

/**
 * A message: every field as an honest agent fills it, then (in two of five) one or two fields
 * given a wild value or left out, so most cases get past the first checks and still reach each
 * field's edges.
 */
function message (fields: Record<string, Field>): fc.Arbitrary<Message> {
  const names = Object.keys(fields)
  const plain = fc.record(Object.fromEntries(names.map(n => [n, fields[n].plain])))
  const wild = fc.oneof(...names.map(n => fc.oneof({ weight: 9, arbitrary: fields[n].wild }, { weight: 1, arbitrary: fc.constant(undefined) }).map(v => [n, v] as const)))
  const wilds = fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 2, arbitrary: fc.array(wild, { minLength: 1, maxLength: 2 }) })
  return fc.tuple(plain, wilds).map(([m, ws]) => ({ ...m, ...Object.fromEntries(ws) }))
}

const TWO = 2n
/** Numbers at the edges of every integer type a field may be read as, up to 2^53 - 1 (the largest the decoder takes)... */
const EXTREMES = [0n, 1n, TWO ** 31n - 1n, TWO ** 31n, TWO ** 32n - 1n, TWO ** 32n, TWO ** 48n, TWO ** 53n - 2n, TWO ** 53n - 1n]
/** ...and past it. */
const UNSAFE = [TWO ** 53n, TWO ** 53n + 1n, TWO ** 56n - 1n, TWO ** 63n, TWO ** 64n - 1n]
const wildNumber = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...EXTREMES) }, { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: TWO ** 53n - 1n }) }, { weight: 1, arbitrary: fc.constantFrom(...UNSAFE) })

/** A number field whose honest values are `plain`. */
const u64 = (plain: fc.Arbitrary<bigint>): Field => ({ plain, wild: wildNumber })
const small = fc.bigInt({ min: 0n, max: 20n })
/** An enum field of `count` values. */
const enumField = (count: number, plain = fc.bigInt({ min: 0n, max: BigInt(count - 1) })): Field =>
  ({ plain, wild: fc.constantFrom(BigInt(count), 99n, TWO ** 31n, TWO ** 32n - 1n, TWO ** 64n - 1n) })

/** What no honest string field holds: terminal escapes, control characters, 8 KiB, non-UTF-8 bytes. */
const nastyText: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.constantFrom('', ' ', '\u001b[2J\u001b[Hmaster is evil', 'a\u0000b', 'line\nbreak', '\u202eevil', 'ünïcödé', '%s%n'),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.nat(8192).map(n => 'x'.repeat(n)),
  fc.uint8Array({ maxLength: 40 })
)
const str = (plain: fc.Arbitrary<string>): Field => ({ plain, wild: nastyText })

/** A node id field: the hostile peer's own (what its connection proves), else an honest node's or anything. */
const nodeId = (ctx: HostileContext): Field => ({ plain: fc.constant(ctx.hostileId), wild: fc.oneof(fc.constantFrom(...ctx.honestIds), nastyText) })

/** A submessage field: wild, it is empty (every field its default) or bytes that need not decode. */
const sub = (plain: fc.Arbitrary<Message>): Field => ({ plain, wild: fc.oneof({ weight: 2, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 24 }) }) })

const sha = fc.uint8Array({ minLength: 32, maxLength: 32 })
const shaField: Field = { plain: sha, wild: fc.uint8Array({ maxLength: 64 }) }
const versionMsg = message({ term: u64(small), seq: u64(small) })
const archiveIdMsg = message({ version: sub(versionMsg), size: u64(fc.bigInt({ min: 0n, max: 100_000n })), sha256: shaField })

const datasetCountMsg = message({ dataset: str(fc.constantFrom(...LIST_DATASETS)), count: u64(small) })

/** A health record (cluster/health.ts) whose times are around `now`. */
function healthMsg (now: bigint): fc.Arbitrary<Message> {
  const recent = fc.bigInt({ min: now - 60_000n, max: now })
  return message({
    lastSyncMs: u64(recent),
    lagMs: u64(small),
    errorCount: u64(small),
    lastError: str(fc.constantFrom('', 'upload: refused')),
    invalidLines: { plain: fc.array(datasetCountMsg, { maxLength: 3 }), wild: fc.array(datasetCountMsg, { maxLength: 40 }) },
    outputsOk: u64(small),
    outputsFailed: u64(small),
    hooksOk: u64(small),
    hooksFailed: u64(small),
    uptimeS: u64(small),
    lastErrorMs: u64(recent),
    outputsFailing: enumField(2),
    hooksFailing: enumField(2)
  })
}

function helloMsg (ctx: HostileContext): fc.Arbitrary<Message> {
  return message({
    nodeId: nodeId(ctx),
    protocolVersion: u64(fc.constant(BigInt(PROTOCOL_VERSION))),
    schemaVersion: u64(fc.constant(BigInt(SCHEMA_VERSION))),
    agentVersion: str(fc.constant(AGENT_VERSION))
  })
}

/** Multiaddr bytes: loopback TCP on any port, an unreachable address, or junk. */
const addr: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.nat(65535).map(port => Uint8Array.from([0x04, 127, 0, 0, 1, 0x06, port >> 8, port & 0xff])),
  fc.constant(Uint8Array.from([0x04, 10, 255, 255, 1, 0x06, 0x10, 0x01])),
  fc.uint8Array({ maxLength: 64 })
)

/** A frame: mostly a message, sometimes bytes that are not one. */
function frame (msg: fc.Arbitrary<Message>): fc.Arbitrary<Frame> {
  return fc.oneof(
    { weight: 9, arbitrary: msg.map(m => ({ msg: m })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map(raw => ({ raw })) }
  )
}

/** A beacon frame (sent straight to an agent over /spamsync/beacon/1.0.0). */
export function beaconFrame (ctx: HostileContext): fc.Arbitrary<Frame> {
  const now = BigInt(Date.now())
  return frame(message({
    nodeId: nodeId(ctx),
    priority: { plain: fc.bigInt({ min: -5n, max: 5n }), wild: fc.constantFrom(-(TWO ** 31n), TWO ** 31n - 1n, TWO ** 31n, TWO ** 40n) },
    role: enumField(3),
    term: u64(small),
    masterId: { plain: fc.constantFrom('', ctx.hostileId, ...ctx.honestIds), wild: nastyText },
    version: sub(versionMsg),
    appliedVersion: sub(versionMsg),
    protocolVersion: u64(fc.constant(BigInt(PROTOCOL_VERSION))),
    schemaVersion: u64(fc.constant(BigInt(SCHEMA_VERSION))),
    agentVersion: str(fc.constant(AGENT_VERSION)),
    pin: enumField(3, fc.constant(0n)),
    addrs: { plain: fc.array(addr.filter(a => a.length === 8), { maxLength: 2 }), wild: fc.array(addr, { maxLength: 40 }) },
    fullArchive: sub(archiveIdMsg),
    wallMs: u64(fc.bigInt({ min: now - 60_000n, max: now + 60_000n })),
    name: str(fc.constantFrom('mx-hostile', '')),
    health: sub(healthMsg(now))
  }))
}

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
const jsonVersion = fc.oneof(
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

function body (ctx: HostileContext): fc.Arbitrary<Body> {
  return fc.oneof({ weight: 8, arbitrary: archiveSpec(ctx).map(archive => ({ archive })) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2048 }).map(raw => ({ raw })) })
}

/** The bytes of a body. */
export function bodyBytes (b: Body, ctx: HostileContext): Uint8Array {
  return 'raw' in b ? b.raw : packSpec(b.archive, ctx)
}

// ---- cases ----

/** In a fetch request's `archive`: the full archive the asked agent announces, when the case is run. */
export const HELD = 'held'

/** Which agent a request goes to: the master of the moment, or one by index. */
export type Target = 'master' | number

function target (ctx: HostileContext): fc.Arbitrary<Target> {
  return fc.oneof({ weight: 3, arbitrary: fc.constant('master' as const) }, { weight: 1, arbitrary: fc.nat(ctx.honestIds.length - 1) })
}

/** An upload: the request, the archive, and where the sender stops. */
export interface UploadCase {
  kind: 'upload'
  to: Target
  /** `size` and `sha256` left out here are the body's real ones. */
  request: Frame
  body: Body
  /** Cut the stream after this share of the body (0..1), or send it all. */
  cutAt: number | null
}

/** What the hostile peer answers to an agent's upload or fetch. */
export interface Answers {
  uploadReady: Frame
  uploadResult: Frame
  fetchResponse: Frame
  fetchBody: Body
}

/** Every kind of case. */
export type HostileCase =
  | { kind: 'beacons', to: number[], frames: Frame[] }
  | UploadCase
  | { kind: 'fetch', to: Target, request: Frame, readArchive: boolean }
  | { kind: 'control', to: Target, request: string }
  /** Answers the hostile peer gives from now on when an agent uploads to it or fetches from it. */
  | { kind: 'answers', answers: Answers }

function uploadCase (ctx: HostileContext): fc.Arbitrary<UploadCase> {
  return fc.record({
    kind: fc.constant('upload' as const),
    to: target(ctx),
    request: frame(message({
      hello: sub(helloMsg(ctx)),
      kind: enumField(2, fc.constantFrom(0n, 0n, 0n, 1n)),
      baseTerm: u64(small),
      baseLseq: u64(small),
      size: { plain: fc.constant(undefined), wild: wildNumber },
      sha256: { plain: fc.constant(undefined), wild: shaField.wild }
    })),
    body: body(ctx),
    cutAt: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) })
  })
}

function controlRequest (ctx: HostileContext): fc.Arbitrary<string> {
  const hello = { nodeId: ctx.hostileId, protocolVersion: PROTOCOL_VERSION, schemaVersion: SCHEMA_VERSION, agentVersion: AGENT_VERSION }
  return fc.oneof(
    fc.record({ hello: fc.constantFrom(hello, {}, null), op: fc.constantFrom('rollback', 'other', 7), version: jsonVersion }).map(r => JSON.stringify(r)),
    fc.constantFrom('', '{', 'null', '[]', '"x"', '{"hello":{"protocolVersion":1,"schemaVersion":1},"op":"rollback"}'),
    fc.string({ unit: 'binary', maxLength: 100 })
  )
}

function answers (ctx: HostileContext): fc.Arbitrary<Answers> {
  const status = enumField(7)
  const reason = str(fc.constant(''))
  const length = u64(fc.bigInt({ min: 0n, max: 4096n }))
  return fc.record({
    uploadReady: frame(message({ status, reason, offset: length })),
    uploadResult: frame(message({ status, reason, version: sub(versionMsg) })),
    fetchResponse: frame(message({
      status,
      reason,
      kind: enumField(2),
      base: sub(versionMsg),
      version: sub(versionMsg),
      // Left out: the body's real ones, so an agent gets past its checks of size and sha256.
      size: { plain: fc.constant(undefined), wild: wildNumber },
      sha256: { plain: fc.constant(undefined), wild: shaField.wild },
      sources: { plain: fc.array(fc.constantFrom(ctx.hostileId, ...ctx.honestIds), { maxLength: 2 }), wild: fc.array(nastyText, { maxLength: 50 }) }
    })),
    fetchBody: body(ctx)
  })
}

/** One case of the hostile-peer fuzzer. */
export function hostileCase (ctx: HostileContext): fc.Arbitrary<HostileCase> {
  const agents = ctx.honestIds.length
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('beacons' as const), to: fc.uniqueArray(fc.nat(agents - 1), { minLength: 1, maxLength: agents }), frames: fc.array(beaconFrame(ctx), { minLength: 1, maxLength: 3 }) }) },
    { weight: 4, arbitrary: uploadCase(ctx) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('fetch' as const),
        to: target(ctx),
        request: frame(message({
          hello: sub(helloMsg(ctx)),
          since: sub(versionMsg),
          want: sub(versionMsg),
          archive: { plain: fc.oneof(archiveIdMsg, fc.constant(HELD)), wild: sub(archiveIdMsg).wild },
          fanOut: enumField(2)
        })),
        readArchive: fc.boolean()
      })
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('control' as const), to: target(ctx), request: controlRequest(ctx) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('answers' as const), answers: answers(ctx) }) }
  )
}
