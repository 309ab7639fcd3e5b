/**
 * Protobuf frames a peer that holds the cluster key can send, for the hostile-peer fuzzer
 * (hostile-messages.ts makes the cases): every field of every message of protocol/spamsync.proto,
 * mostly a value an honest agent would send, so cases get past the first check, and otherwise an
 * extreme one: 0, 2^31, 2^32, 2^53 - 1, 2^53, 2^64 - 1, a random 64-bit number, an empty, huge or
 * control-character string, another node's id, random bytes.
 *
 * Messages are encoded by a small protobuf writer of this file, not by the generated codecs,
 * which refuse to encode a number above 2^53 - 1: a peer's bytes are not bound by our encoder.
 */
import fc from 'fast-check'
import { AGENT_VERSION, LIST_DATASETS, PROTOCOL_VERSION, SCHEMA_VERSION } from '../../src/constants.js'

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
export function message (fields: Record<string, Field>): fc.Arbitrary<Message> {
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
export const wildNumber = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...EXTREMES) }, { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: TWO ** 53n - 1n }) }, { weight: 1, arbitrary: fc.constantFrom(...UNSAFE) })

/** A number field whose honest values are `plain`. */
export const u64 = (plain: fc.Arbitrary<bigint>): Field => ({ plain, wild: wildNumber })
export const small = fc.bigInt({ min: 0n, max: 20n })
/** An enum field of `count` values. */
export const enumField = (count: number, plain = fc.bigInt({ min: 0n, max: BigInt(count - 1) })): Field =>
  ({ plain, wild: fc.constantFrom(BigInt(count), 99n, TWO ** 31n, TWO ** 32n - 1n, TWO ** 64n - 1n) })

/** What no honest string field holds: terminal escapes, control characters, 8 KiB, non-UTF-8 bytes. */
export const nastyText: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.constantFrom('', ' ', '\u001b[2J\u001b[Hmaster is evil', 'a\u0000b', 'line\nbreak', '\u202eevil', 'ünïcödé', '%s%n'),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.nat(8192).map(n => 'x'.repeat(n)),
  fc.uint8Array({ maxLength: 40 })
)
export const str = (plain: fc.Arbitrary<string>): Field => ({ plain, wild: nastyText })

/** A node id field: the hostile peer's own (what its connection proves), else an honest node's or anything. */
const nodeId = (ctx: HostileContext): Field => ({ plain: fc.constant(ctx.hostileId), wild: fc.oneof(fc.constantFrom(...ctx.honestIds), nastyText) })

/** A submessage field: wild, it is empty (every field its default) or bytes that need not decode. */
export const sub = (plain: fc.Arbitrary<Message>): Field => ({ plain, wild: fc.oneof({ weight: 2, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 24 }) }) })

const sha = fc.uint8Array({ minLength: 32, maxLength: 32 })
export const shaField: Field = { plain: sha, wild: fc.uint8Array({ maxLength: 64 }) }
export const versionMsg = message({ term: u64(small), seq: u64(small) })
export const archiveIdMsg = message({ version: sub(versionMsg), size: u64(fc.bigInt({ min: 0n, max: 100_000n })), sha256: shaField })

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

export function helloMsg (ctx: HostileContext): fc.Arbitrary<Message> {
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
export function frame (msg: fc.Arbitrary<Message>): fc.Arbitrary<Frame> {
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
