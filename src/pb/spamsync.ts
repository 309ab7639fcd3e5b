import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export enum Role {
  CANDIDATE = 'CANDIDATE',
  SLAVE = 'SLAVE',
  MASTER = 'MASTER'
}

enum __RoleValues {
  CANDIDATE = 0,
  SLAVE = 1,
  MASTER = 2
}

export namespace Role {
  export const codec = (): Codec<Role> => {
    return enumeration<Role>(__RoleValues)
  }
}

export enum Pin {
  AUTO = 'AUTO',
  PINNED_MASTER = 'PINNED_MASTER',
  PINNED_SLAVE = 'PINNED_SLAVE'
}

enum __PinValues {
  AUTO = 0,
  PINNED_MASTER = 1,
  PINNED_SLAVE = 2
}

export namespace Pin {
  export const codec = (): Codec<Pin> => {
    return enumeration<Pin>(__PinValues)
  }
}

export interface Version {
  term: number
  seq: number
}

export namespace Version {
  let _codec: Codec<Version>

  export const codec = (): Codec<Version> => {
    if (_codec == null) {
      _codec = message<Version>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.term)
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.seq)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          term: 0,
          seq: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.term = reader.uint64Number()
              break
            }
            case 2: {
              obj.seq = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface VersionTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface VersionSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export function encode (obj: Partial<Version>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Version.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Version>): Version {
    return decodeMessage(buf, Version.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Version>): Generator<VersionTermFieldEvent | VersionSeqFieldEvent> {
    return streamMessage(buf, Version.codec(), opts)
  }
}

export interface Beacon {
  nodeId: string
  priority: number
  role: Role
  term: number
  masterId: string
  version?: Version
  appliedVersion?: Version
  protocolVersion: number
  schemaVersion: number
  agentVersion: string
  pin: Pin
  addrs: Uint8Array<ArrayBuffer>[]
  fullArchive?: ArchiveId
  wallMs: number
  name: string
  health?: NodeHealth
  beaconPeriod: number
  beat: number
  longBeaconPeriod: number
  tombstoneFloor: number
  signature: Uint8Array<ArrayBuffer>
}

export namespace Beacon {
  let _codec: Codec<Beacon>

  export const codec = (): Codec<Beacon> => {
    if (_codec == null) {
      _codec = message<Beacon>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.nodeId != null && obj.nodeId !== '')) {
          w.uint32(10)
          w.string(obj.nodeId)
        }

        if ((obj.priority != null && obj.priority !== 0)) {
          w.uint32(16)
          w.sint32(obj.priority)
        }

        if (obj.role != null && __RoleValues[obj.role] !== 0) {
          w.uint32(24)
          Role.codec().encode(obj.role, w)
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.term)
        }

        if ((obj.masterId != null && obj.masterId !== '')) {
          w.uint32(42)
          w.string(obj.masterId)
        }

        if (obj.version != null) {
          w.uint32(50)
          Version.codec().encode(obj.version, w)
        }

        if (obj.appliedVersion != null) {
          w.uint32(58)
          Version.codec().encode(obj.appliedVersion, w)
        }

        if ((obj.protocolVersion != null && obj.protocolVersion !== 0)) {
          w.uint32(64)
          w.uint32(obj.protocolVersion)
        }

        if ((obj.schemaVersion != null && obj.schemaVersion !== 0)) {
          w.uint32(72)
          w.uint32(obj.schemaVersion)
        }

        if ((obj.agentVersion != null && obj.agentVersion !== '')) {
          w.uint32(82)
          w.string(obj.agentVersion)
        }

        if (obj.pin != null && __PinValues[obj.pin] !== 0) {
          w.uint32(88)
          Pin.codec().encode(obj.pin, w)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(98)
            w.bytes(value)
          }
        }

        if (obj.fullArchive != null) {
          w.uint32(106)
          ArchiveId.codec().encode(obj.fullArchive, w)
        }

        if ((obj.wallMs != null && obj.wallMs !== 0)) {
          w.uint32(160)
          w.uint64Number(obj.wallMs)
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(170)
          w.string(obj.name)
        }

        if (obj.health != null) {
          w.uint32(178)
          NodeHealth.codec().encode(obj.health, w)
        }

        if ((obj.beaconPeriod != null && obj.beaconPeriod !== 0)) {
          w.uint32(184)
          w.uint32(obj.beaconPeriod)
        }

        if ((obj.beat != null && obj.beat !== 0)) {
          w.uint32(192)
          w.uint64Number(obj.beat)
        }

        if ((obj.longBeaconPeriod != null && obj.longBeaconPeriod !== 0)) {
          w.uint32(208)
          w.uint32(obj.longBeaconPeriod)
        }

        if ((obj.tombstoneFloor != null && obj.tombstoneFloor !== 0)) {
          w.uint32(320)
          w.uint64Number(obj.tombstoneFloor)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(202)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          nodeId: '',
          priority: 0,
          role: Role.CANDIDATE,
          term: 0,
          masterId: '',
          protocolVersion: 0,
          schemaVersion: 0,
          agentVersion: '',
          pin: Pin.AUTO,
          addrs: [],
          wallMs: 0,
          name: '',
          beaconPeriod: 0,
          beat: 0,
          longBeaconPeriod: 0,
          tombstoneFloor: 0,
          signature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.nodeId = reader.string()
              break
            }
            case 2: {
              obj.priority = reader.sint32()
              break
            }
            case 3: {
              obj.role = Role.codec().decode(reader)
              break
            }
            case 4: {
              obj.term = reader.uint64Number()
              break
            }
            case 5: {
              obj.masterId = reader.string()
              break
            }
            case 6: {
              obj.version = Version.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.version
              })
              break
            }
            case 7: {
              obj.appliedVersion = Version.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.appliedVersion
              })
              break
            }
            case 8: {
              obj.protocolVersion = reader.uint32()
              break
            }
            case 9: {
              obj.schemaVersion = reader.uint32()
              break
            }
            case 10: {
              obj.agentVersion = reader.string()
              break
            }
            case 11: {
              obj.pin = Pin.codec().decode(reader)
              break
            }
            case 12: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.bytes())
              break
            }
            case 13: {
              obj.fullArchive = ArchiveId.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.fullArchive
              })
              break
            }
            case 20: {
              obj.wallMs = reader.uint64Number()
              break
            }
            case 21: {
              obj.name = reader.string()
              break
            }
            case 22: {
              obj.health = NodeHealth.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.health
              })
              break
            }
            case 23: {
              obj.beaconPeriod = reader.uint32()
              break
            }
            case 24: {
              obj.beat = reader.uint64Number()
              break
            }
            case 26: {
              obj.longBeaconPeriod = reader.uint32()
              break
            }
            case 40: {
              obj.tombstoneFloor = reader.uint64Number()
              break
            }
            case 25: {
              obj.signature = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          addrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.nodeId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.priority`,
                value: reader.sint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.role`,
                value: Role.codec().decode(reader)
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.masterId`,
                value: reader.string()
              }
              break
            }
            case 6: {
              yield * Version.codec().stream(reader, reader.uint32(), `${prefix}.version`, {
                limits: opts.limits?.version
              })

              break
            }
            case 7: {
              yield * Version.codec().stream(reader, reader.uint32(), `${prefix}.appliedVersion`, {
                limits: opts.limits?.appliedVersion
              })

              break
            }
            case 8: {
              yield {
                field: `${prefix}.protocolVersion`,
                value: reader.uint32()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.schemaVersion`,
                value: reader.uint32()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.agentVersion`,
                value: reader.string()
              }
              break
            }
            case 11: {
              yield {
                field: `${prefix}.pin`,
                value: Pin.codec().decode(reader)
              }
              break
            }
            case 12: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.bytes()
              }

              obj.addrs++

              break
            }
            case 13: {
              yield * ArchiveId.codec().stream(reader, reader.uint32(), `${prefix}.fullArchive`, {
                limits: opts.limits?.fullArchive
              })

              break
            }
            case 20: {
              yield {
                field: `${prefix}.wallMs`,
                value: reader.uint64Number()
              }
              break
            }
            case 21: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 22: {
              yield * NodeHealth.codec().stream(reader, reader.uint32(), `${prefix}.health`, {
                limits: opts.limits?.health
              })

              break
            }
            case 23: {
              yield {
                field: `${prefix}.beaconPeriod`,
                value: reader.uint32()
              }
              break
            }
            case 24: {
              yield {
                field: `${prefix}.beat`,
                value: reader.uint64Number()
              }
              break
            }
            case 26: {
              yield {
                field: `${prefix}.longBeaconPeriod`,
                value: reader.uint32()
              }
              break
            }
            case 40: {
              yield {
                field: `${prefix}.tombstoneFloor`,
                value: reader.uint64Number()
              }
              break
            }
            case 25: {
              yield {
                field: `${prefix}.signature`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface BeaconNodeIdFieldEvent {
    field: '$.nodeId'
    value: string
  }

  export interface BeaconPriorityFieldEvent {
    field: '$.priority'
    value: number
  }

  export interface BeaconRoleFieldEvent {
    field: '$.role'
    value: Role
  }

  export interface BeaconTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface BeaconMasterIdFieldEvent {
    field: '$.masterId'
    value: string
  }

  export interface BeaconVersionTermFieldEvent {
    field: '$.version.term'
    value: number
  }

  export interface BeaconVersionSeqFieldEvent {
    field: '$.version.seq'
    value: number
  }

  export interface BeaconAppliedVersionTermFieldEvent {
    field: '$.appliedVersion.term'
    value: number
  }

  export interface BeaconAppliedVersionSeqFieldEvent {
    field: '$.appliedVersion.seq'
    value: number
  }

  export interface BeaconProtocolVersionFieldEvent {
    field: '$.protocolVersion'
    value: number
  }

  export interface BeaconSchemaVersionFieldEvent {
    field: '$.schemaVersion'
    value: number
  }

  export interface BeaconAgentVersionFieldEvent {
    field: '$.agentVersion'
    value: string
  }

  export interface BeaconPinFieldEvent {
    field: '$.pin'
    value: Pin
  }

  export interface BeaconAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface BeaconFullArchiveVersionTermFieldEvent {
    field: '$.fullArchive.version.term'
    value: number
  }

  export interface BeaconFullArchiveVersionSeqFieldEvent {
    field: '$.fullArchive.version.seq'
    value: number
  }

  export interface BeaconFullArchiveSizeFieldEvent {
    field: '$.fullArchive.size'
    value: number
  }

  export interface BeaconFullArchiveSha256FieldEvent {
    field: '$.fullArchive.sha256'
    value: Uint8Array<ArrayBuffer>
  }

  export interface BeaconWallMsFieldEvent {
    field: '$.wallMs'
    value: number
  }

  export interface BeaconNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface BeaconHealthLastSyncMsFieldEvent {
    field: '$.health.lastSyncMs'
    value: number
  }

  export interface BeaconHealthLagMsFieldEvent {
    field: '$.health.lagMs'
    value: number
  }

  export interface BeaconHealthErrorCountFieldEvent {
    field: '$.health.errorCount'
    value: number
  }

  export interface BeaconHealthLastErrorFieldEvent {
    field: '$.health.lastError'
    value: string
  }

  export interface BeaconHealthInvalidLinesDatasetFieldEvent {
    field: '$.health.invalidLines[].dataset'
    value: string
    index: number
  }

  export interface BeaconHealthInvalidLinesCountFieldEvent {
    field: '$.health.invalidLines[].count'
    value: number
    index: number
  }

  export interface BeaconHealthOutputsOkFieldEvent {
    field: '$.health.outputsOk'
    value: number
  }

  export interface BeaconHealthOutputsFailedFieldEvent {
    field: '$.health.outputsFailed'
    value: number
  }

  export interface BeaconHealthHooksOkFieldEvent {
    field: '$.health.hooksOk'
    value: number
  }

  export interface BeaconHealthHooksFailedFieldEvent {
    field: '$.health.hooksFailed'
    value: number
  }

  export interface BeaconHealthUptimeSFieldEvent {
    field: '$.health.uptimeS'
    value: number
  }

  export interface BeaconHealthLastErrorMsFieldEvent {
    field: '$.health.lastErrorMs'
    value: number
  }

  export interface BeaconHealthOutputsFailingFieldEvent {
    field: '$.health.outputsFailing'
    value: boolean
  }

  export interface BeaconHealthHooksFailingFieldEvent {
    field: '$.health.hooksFailing'
    value: boolean
  }

  export interface BeaconBeaconPeriodFieldEvent {
    field: '$.beaconPeriod'
    value: number
  }

  export interface BeaconBeatFieldEvent {
    field: '$.beat'
    value: number
  }

  export interface BeaconLongBeaconPeriodFieldEvent {
    field: '$.longBeaconPeriod'
    value: number
  }

  export interface BeaconTombstoneFloorFieldEvent {
    field: '$.tombstoneFloor'
    value: number
  }

  export interface BeaconSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Beacon>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Beacon.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Beacon>): Beacon {
    return decodeMessage(buf, Beacon.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Beacon>): Generator<BeaconNodeIdFieldEvent | BeaconPriorityFieldEvent | BeaconRoleFieldEvent | BeaconTermFieldEvent | BeaconMasterIdFieldEvent | BeaconVersionTermFieldEvent | BeaconVersionSeqFieldEvent | BeaconAppliedVersionTermFieldEvent | BeaconAppliedVersionSeqFieldEvent | BeaconProtocolVersionFieldEvent | BeaconSchemaVersionFieldEvent | BeaconAgentVersionFieldEvent | BeaconPinFieldEvent | BeaconAddrsFieldEvent | BeaconFullArchiveVersionTermFieldEvent | BeaconFullArchiveVersionSeqFieldEvent | BeaconFullArchiveSizeFieldEvent | BeaconFullArchiveSha256FieldEvent | BeaconWallMsFieldEvent | BeaconNameFieldEvent | BeaconHealthLastSyncMsFieldEvent | BeaconHealthLagMsFieldEvent | BeaconHealthErrorCountFieldEvent | BeaconHealthLastErrorFieldEvent | BeaconHealthInvalidLinesDatasetFieldEvent | BeaconHealthInvalidLinesCountFieldEvent | BeaconHealthOutputsOkFieldEvent | BeaconHealthOutputsFailedFieldEvent | BeaconHealthHooksOkFieldEvent | BeaconHealthHooksFailedFieldEvent | BeaconHealthUptimeSFieldEvent | BeaconHealthLastErrorMsFieldEvent | BeaconHealthOutputsFailingFieldEvent | BeaconHealthHooksFailingFieldEvent | BeaconBeaconPeriodFieldEvent | BeaconBeatFieldEvent | BeaconLongBeaconPeriodFieldEvent | BeaconTombstoneFloorFieldEvent | BeaconSignatureFieldEvent> {
    return streamMessage(buf, Beacon.codec(), opts)
  }
}

export interface NodeHealth {
  lastSyncMs: number
  lagMs: number
  errorCount: number
  lastError: string
  invalidLines: DatasetCount[]
  outputsOk: number
  outputsFailed: number
  hooksOk: number
  hooksFailed: number
  uptimeS: number
  lastErrorMs: number
  outputsFailing: boolean
  hooksFailing: boolean
}

export namespace NodeHealth {
  let _codec: Codec<NodeHealth>

  export const codec = (): Codec<NodeHealth> => {
    if (_codec == null) {
      _codec = message<NodeHealth>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.lastSyncMs != null && obj.lastSyncMs !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.lastSyncMs)
        }

        if ((obj.lagMs != null && obj.lagMs !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.lagMs)
        }

        if ((obj.errorCount != null && obj.errorCount !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.errorCount)
        }

        if ((obj.lastError != null && obj.lastError !== '')) {
          w.uint32(34)
          w.string(obj.lastError)
        }

        if (obj.invalidLines != null && obj.invalidLines.length > 0) {
          for (const value of obj.invalidLines) {
            w.uint32(42)
            DatasetCount.codec().encode(value, w)
          }
        }

        if ((obj.outputsOk != null && obj.outputsOk !== 0)) {
          w.uint32(48)
          w.uint64Number(obj.outputsOk)
        }

        if ((obj.outputsFailed != null && obj.outputsFailed !== 0)) {
          w.uint32(56)
          w.uint64Number(obj.outputsFailed)
        }

        if ((obj.hooksOk != null && obj.hooksOk !== 0)) {
          w.uint32(64)
          w.uint64Number(obj.hooksOk)
        }

        if ((obj.hooksFailed != null && obj.hooksFailed !== 0)) {
          w.uint32(72)
          w.uint64Number(obj.hooksFailed)
        }

        if ((obj.uptimeS != null && obj.uptimeS !== 0)) {
          w.uint32(80)
          w.uint64Number(obj.uptimeS)
        }

        if ((obj.lastErrorMs != null && obj.lastErrorMs !== 0)) {
          w.uint32(88)
          w.uint64Number(obj.lastErrorMs)
        }

        if ((obj.outputsFailing != null && obj.outputsFailing !== false)) {
          w.uint32(96)
          w.bool(obj.outputsFailing)
        }

        if ((obj.hooksFailing != null && obj.hooksFailing !== false)) {
          w.uint32(104)
          w.bool(obj.hooksFailing)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          lastSyncMs: 0,
          lagMs: 0,
          errorCount: 0,
          lastError: '',
          invalidLines: [],
          outputsOk: 0,
          outputsFailed: 0,
          hooksOk: 0,
          hooksFailed: 0,
          uptimeS: 0,
          lastErrorMs: 0,
          outputsFailing: false,
          hooksFailing: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.lastSyncMs = reader.uint64Number()
              break
            }
            case 2: {
              obj.lagMs = reader.uint64Number()
              break
            }
            case 3: {
              obj.errorCount = reader.uint64Number()
              break
            }
            case 4: {
              obj.lastError = reader.string()
              break
            }
            case 5: {
              if (opts.limits?.invalidLines != null && obj.invalidLines.length === opts.limits.invalidLines) {
                throw new MaxLengthError('Decode error - repeated field "invalidLines" had too many elements')
              }

              obj.invalidLines.push(DatasetCount.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.invalidLines$
              }))
              break
            }
            case 6: {
              obj.outputsOk = reader.uint64Number()
              break
            }
            case 7: {
              obj.outputsFailed = reader.uint64Number()
              break
            }
            case 8: {
              obj.hooksOk = reader.uint64Number()
              break
            }
            case 9: {
              obj.hooksFailed = reader.uint64Number()
              break
            }
            case 10: {
              obj.uptimeS = reader.uint64Number()
              break
            }
            case 11: {
              obj.lastErrorMs = reader.uint64Number()
              break
            }
            case 12: {
              obj.outputsFailing = reader.bool()
              break
            }
            case 13: {
              obj.hooksFailing = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          invalidLines: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.lastSyncMs`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.lagMs`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.errorCount`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.lastError`,
                value: reader.string()
              }
              break
            }
            case 5: {
              if (opts.limits?.invalidLines != null && obj.invalidLines === opts.limits.invalidLines) {
                throw new MaxLengthError('Streaming decode error - repeated field "invalidLines" had too many elements')
              }

              for (const evt of DatasetCount.codec().stream(reader, reader.uint32(), `${prefix}.invalidLines[]`, {
                limits: opts.limits?.invalidLines$
              })) {
                yield {
                  ...evt,
                  index: obj.invalidLines
                }
              }

              obj.invalidLines++

              break
            }
            case 6: {
              yield {
                field: `${prefix}.outputsOk`,
                value: reader.uint64Number()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.outputsFailed`,
                value: reader.uint64Number()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.hooksOk`,
                value: reader.uint64Number()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.hooksFailed`,
                value: reader.uint64Number()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.uptimeS`,
                value: reader.uint64Number()
              }
              break
            }
            case 11: {
              yield {
                field: `${prefix}.lastErrorMs`,
                value: reader.uint64Number()
              }
              break
            }
            case 12: {
              yield {
                field: `${prefix}.outputsFailing`,
                value: reader.bool()
              }
              break
            }
            case 13: {
              yield {
                field: `${prefix}.hooksFailing`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface NodeHealthLastSyncMsFieldEvent {
    field: '$.lastSyncMs'
    value: number
  }

  export interface NodeHealthLagMsFieldEvent {
    field: '$.lagMs'
    value: number
  }

  export interface NodeHealthErrorCountFieldEvent {
    field: '$.errorCount'
    value: number
  }

  export interface NodeHealthLastErrorFieldEvent {
    field: '$.lastError'
    value: string
  }

  export interface NodeHealthInvalidLinesDatasetFieldEvent {
    field: '$.invalidLines[].dataset'
    value: string
    index: number
  }

  export interface NodeHealthInvalidLinesCountFieldEvent {
    field: '$.invalidLines[].count'
    value: number
    index: number
  }

  export interface NodeHealthOutputsOkFieldEvent {
    field: '$.outputsOk'
    value: number
  }

  export interface NodeHealthOutputsFailedFieldEvent {
    field: '$.outputsFailed'
    value: number
  }

  export interface NodeHealthHooksOkFieldEvent {
    field: '$.hooksOk'
    value: number
  }

  export interface NodeHealthHooksFailedFieldEvent {
    field: '$.hooksFailed'
    value: number
  }

  export interface NodeHealthUptimeSFieldEvent {
    field: '$.uptimeS'
    value: number
  }

  export interface NodeHealthLastErrorMsFieldEvent {
    field: '$.lastErrorMs'
    value: number
  }

  export interface NodeHealthOutputsFailingFieldEvent {
    field: '$.outputsFailing'
    value: boolean
  }

  export interface NodeHealthHooksFailingFieldEvent {
    field: '$.hooksFailing'
    value: boolean
  }

  export function encode (obj: Partial<NodeHealth>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, NodeHealth.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<NodeHealth>): NodeHealth {
    return decodeMessage(buf, NodeHealth.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<NodeHealth>): Generator<NodeHealthLastSyncMsFieldEvent | NodeHealthLagMsFieldEvent | NodeHealthErrorCountFieldEvent | NodeHealthLastErrorFieldEvent | NodeHealthInvalidLinesDatasetFieldEvent | NodeHealthInvalidLinesCountFieldEvent | NodeHealthOutputsOkFieldEvent | NodeHealthOutputsFailedFieldEvent | NodeHealthHooksOkFieldEvent | NodeHealthHooksFailedFieldEvent | NodeHealthUptimeSFieldEvent | NodeHealthLastErrorMsFieldEvent | NodeHealthOutputsFailingFieldEvent | NodeHealthHooksFailingFieldEvent> {
    return streamMessage(buf, NodeHealth.codec(), opts)
  }
}

export interface DatasetCount {
  dataset: string
  count: number
}

export namespace DatasetCount {
  let _codec: Codec<DatasetCount>

  export const codec = (): Codec<DatasetCount> => {
    if (_codec == null) {
      _codec = message<DatasetCount>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.dataset != null && obj.dataset !== '')) {
          w.uint32(10)
          w.string(obj.dataset)
        }

        if ((obj.count != null && obj.count !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.count)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          dataset: '',
          count: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.dataset = reader.string()
              break
            }
            case 2: {
              obj.count = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.dataset`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.count`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface DatasetCountDatasetFieldEvent {
    field: '$.dataset'
    value: string
  }

  export interface DatasetCountCountFieldEvent {
    field: '$.count'
    value: number
  }

  export function encode (obj: Partial<DatasetCount>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, DatasetCount.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DatasetCount>): DatasetCount {
    return decodeMessage(buf, DatasetCount.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DatasetCount>): Generator<DatasetCountDatasetFieldEvent | DatasetCountCountFieldEvent> {
    return streamMessage(buf, DatasetCount.codec(), opts)
  }
}

export interface ArchiveId {
  version?: Version
  size: number
  sha256: Uint8Array<ArrayBuffer>
}

export namespace ArchiveId {
  let _codec: Codec<ArchiveId>

  export const codec = (): Codec<ArchiveId> => {
    if (_codec == null) {
      _codec = message<ArchiveId>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.version != null) {
          w.uint32(10)
          Version.codec().encode(obj.version, w)
        }

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.size)
        }

        if ((obj.sha256 != null && obj.sha256.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.sha256)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          size: 0,
          sha256: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = Version.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.version
              })
              break
            }
            case 2: {
              obj.size = reader.uint64Number()
              break
            }
            case 3: {
              obj.sha256 = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * Version.codec().stream(reader, reader.uint32(), `${prefix}.version`, {
                limits: opts.limits?.version
              })

              break
            }
            case 2: {
              yield {
                field: `${prefix}.size`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.sha256`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ArchiveIdVersionTermFieldEvent {
    field: '$.version.term'
    value: number
  }

  export interface ArchiveIdVersionSeqFieldEvent {
    field: '$.version.seq'
    value: number
  }

  export interface ArchiveIdSizeFieldEvent {
    field: '$.size'
    value: number
  }

  export interface ArchiveIdSha256FieldEvent {
    field: '$.sha256'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ArchiveId>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ArchiveId.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ArchiveId>): ArchiveId {
    return decodeMessage(buf, ArchiveId.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ArchiveId>): Generator<ArchiveIdVersionTermFieldEvent | ArchiveIdVersionSeqFieldEvent | ArchiveIdSizeFieldEvent | ArchiveIdSha256FieldEvent> {
    return streamMessage(buf, ArchiveId.codec(), opts)
  }
}

export enum ArchiveKind {
  FULL = 'FULL',
  DELTA = 'DELTA'
}

enum __ArchiveKindValues {
  FULL = 0,
  DELTA = 1
}

export namespace ArchiveKind {
  export const codec = (): Codec<ArchiveKind> => {
    return enumeration<ArchiveKind>(__ArchiveKindValues)
  }
}

export enum Status {
  OK = 'OK',
  REFUSED = 'REFUSED',
  NEED_FULL = 'NEED_FULL',
  BAD_ARCHIVE = 'BAD_ARCHIVE',
  UP_TO_DATE = 'UP_TO_DATE',
  RETRY = 'RETRY',
  BUSY = 'BUSY'
}

enum __StatusValues {
  OK = 0,
  REFUSED = 1,
  NEED_FULL = 2,
  BAD_ARCHIVE = 3,
  UP_TO_DATE = 4,
  RETRY = 5,
  BUSY = 6
}

export namespace Status {
  export const codec = (): Codec<Status> => {
    return enumeration<Status>(__StatusValues)
  }
}

export interface Hello {
  nodeId: string
  protocolVersion: number
  schemaVersion: number
  agentVersion: string
}

export namespace Hello {
  let _codec: Codec<Hello>

  export const codec = (): Codec<Hello> => {
    if (_codec == null) {
      _codec = message<Hello>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.nodeId != null && obj.nodeId !== '')) {
          w.uint32(10)
          w.string(obj.nodeId)
        }

        if ((obj.protocolVersion != null && obj.protocolVersion !== 0)) {
          w.uint32(16)
          w.uint32(obj.protocolVersion)
        }

        if ((obj.schemaVersion != null && obj.schemaVersion !== 0)) {
          w.uint32(24)
          w.uint32(obj.schemaVersion)
        }

        if ((obj.agentVersion != null && obj.agentVersion !== '')) {
          w.uint32(34)
          w.string(obj.agentVersion)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          nodeId: '',
          protocolVersion: 0,
          schemaVersion: 0,
          agentVersion: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.nodeId = reader.string()
              break
            }
            case 2: {
              obj.protocolVersion = reader.uint32()
              break
            }
            case 3: {
              obj.schemaVersion = reader.uint32()
              break
            }
            case 4: {
              obj.agentVersion = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.nodeId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.protocolVersion`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.schemaVersion`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.agentVersion`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface HelloNodeIdFieldEvent {
    field: '$.nodeId'
    value: string
  }

  export interface HelloProtocolVersionFieldEvent {
    field: '$.protocolVersion'
    value: number
  }

  export interface HelloSchemaVersionFieldEvent {
    field: '$.schemaVersion'
    value: number
  }

  export interface HelloAgentVersionFieldEvent {
    field: '$.agentVersion'
    value: string
  }

  export function encode (obj: Partial<Hello>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Hello.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Hello>): Hello {
    return decodeMessage(buf, Hello.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Hello>): Generator<HelloNodeIdFieldEvent | HelloProtocolVersionFieldEvent | HelloSchemaVersionFieldEvent | HelloAgentVersionFieldEvent> {
    return streamMessage(buf, Hello.codec(), opts)
  }
}

export interface UploadRequest {
  hello?: Hello
  kind: ArchiveKind
  baseTerm: number
  baseLseq: number
  size: number
  sha256: Uint8Array<ArrayBuffer>
}

export namespace UploadRequest {
  let _codec: Codec<UploadRequest>

  export const codec = (): Codec<UploadRequest> => {
    if (_codec == null) {
      _codec = message<UploadRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.hello != null) {
          w.uint32(10)
          Hello.codec().encode(obj.hello, w)
        }

        if (obj.kind != null && __ArchiveKindValues[obj.kind] !== 0) {
          w.uint32(16)
          ArchiveKind.codec().encode(obj.kind, w)
        }

        if ((obj.baseTerm != null && obj.baseTerm !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.baseTerm)
        }

        if ((obj.baseLseq != null && obj.baseLseq !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.baseLseq)
        }

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(40)
          w.uint64Number(obj.size)
        }

        if ((obj.sha256 != null && obj.sha256.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.sha256)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          kind: ArchiveKind.FULL,
          baseTerm: 0,
          baseLseq: 0,
          size: 0,
          sha256: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.hello = Hello.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.hello
              })
              break
            }
            case 2: {
              obj.kind = ArchiveKind.codec().decode(reader)
              break
            }
            case 3: {
              obj.baseTerm = reader.uint64Number()
              break
            }
            case 4: {
              obj.baseLseq = reader.uint64Number()
              break
            }
            case 5: {
              obj.size = reader.uint64Number()
              break
            }
            case 6: {
              obj.sha256 = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * Hello.codec().stream(reader, reader.uint32(), `${prefix}.hello`, {
                limits: opts.limits?.hello
              })

              break
            }
            case 2: {
              yield {
                field: `${prefix}.kind`,
                value: ArchiveKind.codec().decode(reader)
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.baseTerm`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.baseLseq`,
                value: reader.uint64Number()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.size`,
                value: reader.uint64Number()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.sha256`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface UploadRequestHelloNodeIdFieldEvent {
    field: '$.hello.nodeId'
    value: string
  }

  export interface UploadRequestHelloProtocolVersionFieldEvent {
    field: '$.hello.protocolVersion'
    value: number
  }

  export interface UploadRequestHelloSchemaVersionFieldEvent {
    field: '$.hello.schemaVersion'
    value: number
  }

  export interface UploadRequestHelloAgentVersionFieldEvent {
    field: '$.hello.agentVersion'
    value: string
  }

  export interface UploadRequestKindFieldEvent {
    field: '$.kind'
    value: ArchiveKind
  }

  export interface UploadRequestBaseTermFieldEvent {
    field: '$.baseTerm'
    value: number
  }

  export interface UploadRequestBaseLseqFieldEvent {
    field: '$.baseLseq'
    value: number
  }

  export interface UploadRequestSizeFieldEvent {
    field: '$.size'
    value: number
  }

  export interface UploadRequestSha256FieldEvent {
    field: '$.sha256'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<UploadRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, UploadRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<UploadRequest>): UploadRequest {
    return decodeMessage(buf, UploadRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<UploadRequest>): Generator<UploadRequestHelloNodeIdFieldEvent | UploadRequestHelloProtocolVersionFieldEvent | UploadRequestHelloSchemaVersionFieldEvent | UploadRequestHelloAgentVersionFieldEvent | UploadRequestKindFieldEvent | UploadRequestBaseTermFieldEvent | UploadRequestBaseLseqFieldEvent | UploadRequestSizeFieldEvent | UploadRequestSha256FieldEvent> {
    return streamMessage(buf, UploadRequest.codec(), opts)
  }
}

export interface UploadReady {
  status: Status
  reason: string
  offset: number
}

export namespace UploadReady {
  let _codec: Codec<UploadReady>

  export const codec = (): Codec<UploadReady> => {
    if (_codec == null) {
      _codec = message<UploadReady>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.status != null && __StatusValues[obj.status] !== 0) {
          w.uint32(8)
          Status.codec().encode(obj.status, w)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(18)
          w.string(obj.reason)
        }

        if ((obj.offset != null && obj.offset !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.offset)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          status: Status.OK,
          reason: '',
          offset: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.status = Status.codec().decode(reader)
              break
            }
            case 2: {
              obj.reason = reader.string()
              break
            }
            case 3: {
              obj.offset = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.status`,
                value: Status.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.reason`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.offset`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface UploadReadyStatusFieldEvent {
    field: '$.status'
    value: Status
  }

  export interface UploadReadyReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export interface UploadReadyOffsetFieldEvent {
    field: '$.offset'
    value: number
  }

  export function encode (obj: Partial<UploadReady>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, UploadReady.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<UploadReady>): UploadReady {
    return decodeMessage(buf, UploadReady.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<UploadReady>): Generator<UploadReadyStatusFieldEvent | UploadReadyReasonFieldEvent | UploadReadyOffsetFieldEvent> {
    return streamMessage(buf, UploadReady.codec(), opts)
  }
}

export interface UploadResult {
  status: Status
  reason: string
  version?: Version
}

export namespace UploadResult {
  let _codec: Codec<UploadResult>

  export const codec = (): Codec<UploadResult> => {
    if (_codec == null) {
      _codec = message<UploadResult>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.status != null && __StatusValues[obj.status] !== 0) {
          w.uint32(8)
          Status.codec().encode(obj.status, w)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(18)
          w.string(obj.reason)
        }

        if (obj.version != null) {
          w.uint32(26)
          Version.codec().encode(obj.version, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          status: Status.OK,
          reason: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.status = Status.codec().decode(reader)
              break
            }
            case 2: {
              obj.reason = reader.string()
              break
            }
            case 3: {
              obj.version = Version.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.version
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.status`,
                value: Status.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.reason`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield * Version.codec().stream(reader, reader.uint32(), `${prefix}.version`, {
                limits: opts.limits?.version
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface UploadResultStatusFieldEvent {
    field: '$.status'
    value: Status
  }

  export interface UploadResultReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export interface UploadResultVersionTermFieldEvent {
    field: '$.version.term'
    value: number
  }

  export interface UploadResultVersionSeqFieldEvent {
    field: '$.version.seq'
    value: number
  }

  export function encode (obj: Partial<UploadResult>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, UploadResult.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<UploadResult>): UploadResult {
    return decodeMessage(buf, UploadResult.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<UploadResult>): Generator<UploadResultStatusFieldEvent | UploadResultReasonFieldEvent | UploadResultVersionTermFieldEvent | UploadResultVersionSeqFieldEvent> {
    return streamMessage(buf, UploadResult.codec(), opts)
  }
}

export interface FetchRequest {
  hello?: Hello
  since?: Version
  want?: Version
  archive?: ArchiveId
  fanOut: boolean
}

export namespace FetchRequest {
  let _codec: Codec<FetchRequest>

  export const codec = (): Codec<FetchRequest> => {
    if (_codec == null) {
      _codec = message<FetchRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.hello != null) {
          w.uint32(10)
          Hello.codec().encode(obj.hello, w)
        }

        if (obj.since != null) {
          w.uint32(18)
          Version.codec().encode(obj.since, w)
        }

        if (obj.want != null) {
          w.uint32(26)
          Version.codec().encode(obj.want, w)
        }

        if (obj.archive != null) {
          w.uint32(34)
          ArchiveId.codec().encode(obj.archive, w)
        }

        if ((obj.fanOut != null && obj.fanOut !== false)) {
          w.uint32(40)
          w.bool(obj.fanOut)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          fanOut: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.hello = Hello.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.hello
              })
              break
            }
            case 2: {
              obj.since = Version.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.since
              })
              break
            }
            case 3: {
              obj.want = Version.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.want
              })
              break
            }
            case 4: {
              obj.archive = ArchiveId.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.archive
              })
              break
            }
            case 5: {
              obj.fanOut = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * Hello.codec().stream(reader, reader.uint32(), `${prefix}.hello`, {
                limits: opts.limits?.hello
              })

              break
            }
            case 2: {
              yield * Version.codec().stream(reader, reader.uint32(), `${prefix}.since`, {
                limits: opts.limits?.since
              })

              break
            }
            case 3: {
              yield * Version.codec().stream(reader, reader.uint32(), `${prefix}.want`, {
                limits: opts.limits?.want
              })

              break
            }
            case 4: {
              yield * ArchiveId.codec().stream(reader, reader.uint32(), `${prefix}.archive`, {
                limits: opts.limits?.archive
              })

              break
            }
            case 5: {
              yield {
                field: `${prefix}.fanOut`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface FetchRequestHelloNodeIdFieldEvent {
    field: '$.hello.nodeId'
    value: string
  }

  export interface FetchRequestHelloProtocolVersionFieldEvent {
    field: '$.hello.protocolVersion'
    value: number
  }

  export interface FetchRequestHelloSchemaVersionFieldEvent {
    field: '$.hello.schemaVersion'
    value: number
  }

  export interface FetchRequestHelloAgentVersionFieldEvent {
    field: '$.hello.agentVersion'
    value: string
  }

  export interface FetchRequestSinceTermFieldEvent {
    field: '$.since.term'
    value: number
  }

  export interface FetchRequestSinceSeqFieldEvent {
    field: '$.since.seq'
    value: number
  }

  export interface FetchRequestWantTermFieldEvent {
    field: '$.want.term'
    value: number
  }

  export interface FetchRequestWantSeqFieldEvent {
    field: '$.want.seq'
    value: number
  }

  export interface FetchRequestArchiveVersionTermFieldEvent {
    field: '$.archive.version.term'
    value: number
  }

  export interface FetchRequestArchiveVersionSeqFieldEvent {
    field: '$.archive.version.seq'
    value: number
  }

  export interface FetchRequestArchiveSizeFieldEvent {
    field: '$.archive.size'
    value: number
  }

  export interface FetchRequestArchiveSha256FieldEvent {
    field: '$.archive.sha256'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FetchRequestFanOutFieldEvent {
    field: '$.fanOut'
    value: boolean
  }

  export function encode (obj: Partial<FetchRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FetchRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FetchRequest>): FetchRequest {
    return decodeMessage(buf, FetchRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FetchRequest>): Generator<FetchRequestHelloNodeIdFieldEvent | FetchRequestHelloProtocolVersionFieldEvent | FetchRequestHelloSchemaVersionFieldEvent | FetchRequestHelloAgentVersionFieldEvent | FetchRequestSinceTermFieldEvent | FetchRequestSinceSeqFieldEvent | FetchRequestWantTermFieldEvent | FetchRequestWantSeqFieldEvent | FetchRequestArchiveVersionTermFieldEvent | FetchRequestArchiveVersionSeqFieldEvent | FetchRequestArchiveSizeFieldEvent | FetchRequestArchiveSha256FieldEvent | FetchRequestFanOutFieldEvent> {
    return streamMessage(buf, FetchRequest.codec(), opts)
  }
}

export interface FetchResponse {
  status: Status
  reason: string
  kind: ArchiveKind
  base?: Version
  version?: Version
  size: number
  sha256: Uint8Array<ArrayBuffer>
  sources: string[]
  history: Uint8Array<ArrayBuffer>
}

export namespace FetchResponse {
  let _codec: Codec<FetchResponse>

  export const codec = (): Codec<FetchResponse> => {
    if (_codec == null) {
      _codec = message<FetchResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.status != null && __StatusValues[obj.status] !== 0) {
          w.uint32(8)
          Status.codec().encode(obj.status, w)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(18)
          w.string(obj.reason)
        }

        if (obj.kind != null && __ArchiveKindValues[obj.kind] !== 0) {
          w.uint32(24)
          ArchiveKind.codec().encode(obj.kind, w)
        }

        if (obj.base != null) {
          w.uint32(34)
          Version.codec().encode(obj.base, w)
        }

        if (obj.version != null) {
          w.uint32(42)
          Version.codec().encode(obj.version, w)
        }

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(48)
          w.uint64Number(obj.size)
        }

        if ((obj.sha256 != null && obj.sha256.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.sha256)
        }

        if (obj.sources != null && obj.sources.length > 0) {
          for (const value of obj.sources) {
            w.uint32(66)
            w.string(value)
          }
        }

        if ((obj.history != null && obj.history.byteLength > 0)) {
          w.uint32(74)
          w.bytes(obj.history)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          status: Status.OK,
          reason: '',
          kind: ArchiveKind.FULL,
          size: 0,
          sha256: uint8ArrayAlloc(0),
          sources: [],
          history: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.status = Status.codec().decode(reader)
              break
            }
            case 2: {
              obj.reason = reader.string()
              break
            }
            case 3: {
              obj.kind = ArchiveKind.codec().decode(reader)
              break
            }
            case 4: {
              obj.base = Version.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.base
              })
              break
            }
            case 5: {
              obj.version = Version.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.version
              })
              break
            }
            case 6: {
              obj.size = reader.uint64Number()
              break
            }
            case 7: {
              obj.sha256 = reader.bytes()
              break
            }
            case 8: {
              if (opts.limits?.sources != null && obj.sources.length === opts.limits.sources) {
                throw new MaxLengthError('Decode error - repeated field "sources" had too many elements')
              }

              obj.sources.push(reader.string())
              break
            }
            case 9: {
              obj.history = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          sources: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.status`,
                value: Status.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.reason`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.kind`,
                value: ArchiveKind.codec().decode(reader)
              }
              break
            }
            case 4: {
              yield * Version.codec().stream(reader, reader.uint32(), `${prefix}.base`, {
                limits: opts.limits?.base
              })

              break
            }
            case 5: {
              yield * Version.codec().stream(reader, reader.uint32(), `${prefix}.version`, {
                limits: opts.limits?.version
              })

              break
            }
            case 6: {
              yield {
                field: `${prefix}.size`,
                value: reader.uint64Number()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.sha256`,
                value: reader.bytes()
              }
              break
            }
            case 8: {
              if (opts.limits?.sources != null && obj.sources === opts.limits.sources) {
                throw new MaxLengthError('Streaming decode error - repeated field "sources" had too many elements')
              }

              yield {
                field: `${prefix}.sources[]`,
                index: obj.sources,
                value: reader.string()
              }

              obj.sources++

              break
            }
            case 9: {
              yield {
                field: `${prefix}.history`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface FetchResponseStatusFieldEvent {
    field: '$.status'
    value: Status
  }

  export interface FetchResponseReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export interface FetchResponseKindFieldEvent {
    field: '$.kind'
    value: ArchiveKind
  }

  export interface FetchResponseBaseTermFieldEvent {
    field: '$.base.term'
    value: number
  }

  export interface FetchResponseBaseSeqFieldEvent {
    field: '$.base.seq'
    value: number
  }

  export interface FetchResponseVersionTermFieldEvent {
    field: '$.version.term'
    value: number
  }

  export interface FetchResponseVersionSeqFieldEvent {
    field: '$.version.seq'
    value: number
  }

  export interface FetchResponseSizeFieldEvent {
    field: '$.size'
    value: number
  }

  export interface FetchResponseSha256FieldEvent {
    field: '$.sha256'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FetchResponseSourcesFieldEvent {
    field: '$.sources[]'
    index: number
    value: string
  }

  export interface FetchResponseHistoryFieldEvent {
    field: '$.history'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<FetchResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FetchResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FetchResponse>): FetchResponse {
    return decodeMessage(buf, FetchResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FetchResponse>): Generator<FetchResponseStatusFieldEvent | FetchResponseReasonFieldEvent | FetchResponseKindFieldEvent | FetchResponseBaseTermFieldEvent | FetchResponseBaseSeqFieldEvent | FetchResponseVersionTermFieldEvent | FetchResponseVersionSeqFieldEvent | FetchResponseSizeFieldEvent | FetchResponseSha256FieldEvent | FetchResponseSourcesFieldEvent | FetchResponseHistoryFieldEvent> {
    return streamMessage(buf, FetchResponse.codec(), opts)
  }
}
