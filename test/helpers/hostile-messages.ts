/**
 * The cases of the hostile-peer fuzzer: everything a peer that holds the cluster key can send
 * (beacons, hellos, upload and fetch requests, the JSON control request) and the answers it gives
 * when it is asked (UploadReady, UploadResult, FetchResponse). The fields come from
 * hostile-fields.ts, the archives from hostile-archive-specs.ts.
 */
import fc from 'fast-check'
import { AGENT_VERSION, PROTOCOL_VERSION, SCHEMA_VERSION } from '../../src/constants.js'
import { type Frame, type HostileContext, archiveIdMsg, beaconFrame, enumField, frame, helloMsg, message, nastyText, shaField, small, str, sub, u64, versionMsg, wildNumber } from './hostile-fields.js'
import { type Body, body, jsonVersion } from './hostile-archive-specs.js'

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
