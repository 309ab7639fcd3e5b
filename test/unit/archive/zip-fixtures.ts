/**
 * Hand-built zips for the archive tests. A real zip writer refuses to write the hostile archives
 * we need (unsafe names, lying sizes, duplicates), so this one writes whatever it is told.
 */
import { createHash } from 'node:crypto'
import { crc32 } from 'node:zlib'
import { deflateSync } from 'fflate'
import { SCHEMA_VERSION } from '../../../src/constants.js'

/** One entry to write; every header field can be overridden to lie. */
export interface RawEntry {
  /** Entry name; bytes are written as given, a string as UTF-8. */
  name: string | Uint8Array
  /** Uncompressed content. */
  data: Uint8Array
  /** 0 stored, 8 deflate (default). */
  method?: number
  /** Uncompressed size written in both headers (default: the real size). */
  size?: number
  /** Compressed size written in both headers (default: the real size). */
  compressedSize?: number
  /** CRC-32 written in both headers (default: the real one). */
  crc?: number
  /** General-purpose flags (default: the UTF-8 flag for non-ASCII string names). */
  flags?: number
  /** Name written in the local header only (default: the same as the central one). */
  localName?: string
}

/** Writes a zip holding exactly these entries, in order. */
export function buildZip (entries: RawEntry[]): Uint8Array {
  const enc = new TextEncoder()
  const locals: Uint8Array[] = []
  const centrals: Uint8Array[] = []
  let offset = 0
  for (const e of entries) {
    const name = typeof e.name === 'string' ? enc.encode(e.name) : e.name
    const localName = e.localName === undefined ? name : enc.encode(e.localName)
    const method = e.method ?? 8
    const body = method === 8 ? deflateSync(e.data, { level: 6 }) : e.data
    const utf8 = typeof e.name === 'string' && name.length !== e.name.length ? 0x0800 : 0
    const flags = e.flags ?? utf8
    const crc = e.crc ?? (crc32(e.data) >>> 0)
    const size = e.size ?? e.data.length
    const csize = e.compressedSize ?? body.length

    const local = new Uint8Array(30 + localName.length + body.length)
    const lv = new DataView(local.buffer)
    lv.setUint32(0, 0x04034b50, true)
    lv.setUint16(4, 20, true)
    lv.setUint16(6, flags, true)
    lv.setUint16(8, method, true)
    lv.setUint32(10, 0x5a210000, true)
    lv.setUint32(14, crc, true)
    lv.setUint32(18, csize, true)
    lv.setUint32(22, size, true)
    lv.setUint16(26, localName.length, true)
    lv.setUint16(28, 0, true)
    local.set(localName, 30)
    local.set(body, 30 + localName.length)

    const central = new Uint8Array(46 + name.length)
    const cv = new DataView(central.buffer)
    cv.setUint32(0, 0x02014b50, true)
    cv.setUint16(4, 20, true)
    cv.setUint16(6, 20, true)
    cv.setUint16(8, flags, true)
    cv.setUint16(10, method, true)
    cv.setUint32(12, 0x5a210000, true)
    cv.setUint32(16, crc, true)
    cv.setUint32(20, csize, true)
    cv.setUint32(24, size, true)
    cv.setUint16(28, name.length, true)
    cv.setUint32(42, offset, true)
    central.set(name, 46)

    locals.push(local)
    centrals.push(central)
    offset += local.length
  }
  const cdSize = centrals.reduce((n, c) => n + c.length, 0)
  const eocd = new Uint8Array(22)
  const ev = new DataView(eocd.buffer)
  ev.setUint32(0, 0x06054b50, true)
  ev.setUint16(8, entries.length, true)
  ev.setUint16(10, entries.length, true)
  ev.setUint32(12, cdSize, true)
  ev.setUint32(16, offset, true)
  return concat([...locals, ...centrals, eocd])
}

/** Bytes laid end to end. */
export function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** UTF-8 bytes of a string. */
export function utf8 (s: string): Uint8Array {
  return new TextEncoder().encode(s)
}

/** Hex sha256. */
export function sha256 (data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/** A valid manifest object for these files, with fields overridden as given. */
export function manifestFor (files: Array<{ name: string, data: Uint8Array, size?: number }>,
  overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    format: 'spamsync-archive',
    formatVersion: 1,
    agentVersion: '0.1.0',
    schemaVersion: SCHEMA_VERSION,
    kind: 'full',
    origin: 'node-a',
    base: null,
    version: { term: 1, seq: 1 },
    createdAt: '2025-01-02T03:04:05.000Z',
    files: files.map(f => ({ name: f.name, size: f.size ?? f.data.length, entries: 1, sha256: sha256(f.data) })),
    ...overrides
  }
}

/** The `manifest.json` entry for a manifest object. */
export function manifestEntry (manifest: unknown): RawEntry {
  return { name: 'manifest.json', data: utf8(JSON.stringify(manifest)) }
}

/** A well-formed archive of these data files (manifest first), built by hand. */
export function archiveOf (files: Array<{ name: string, data: Uint8Array }>): Uint8Array {
  return buildZip([manifestEntry(manifestFor(files)), ...files.map(f => ({ name: f.name, data: f.data }))])
}
