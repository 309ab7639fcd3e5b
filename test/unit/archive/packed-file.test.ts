/** What packing computes of a file's bytes, kept per bytes object (src/archive/packed-file.ts), and archives packed with it. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { crc32, inflateRawSync } from 'node:zlib'
import { packed } from '../../../src/archive/packed-file.js'
import { packArchive, unpackArchive } from '../../../src/archive/zip.js'

const META = { agentVersion: '0.5.0', schemaVersion: 1, kind: 'delta' as const, origin: 'node-a', base: { term: 1, seq: 1 }, version: { term: 1, seq: 2 }, createdAt: '2026-01-01T00:00:00.000Z' }
const big = new TextEncoder().encode(Array.from({ length: 20_000 }, (_, i) => `d${i}.example\t1\t${i}\n`).join(''))

test('the same bytes give the same kept result; its sha256, CRC and deflate stream at each level are those of the bytes', () => {
  const p = packed(big)
  assert.equal(packed(big), p)
  assert.equal(p.sha256, createHash('sha256').update(big).digest('hex'))
  assert.equal(p.crc, crc32(big) >>> 0)
  for (const level of [1, 4, 9]) {
    assert.equal(p.deflated(level), p.deflated(level), 'one stream per level')
    assert.ok(Buffer.from(big).equals(inflateRawSync(p.deflated(level))))
  }
  assert.notEqual(packed(big.slice()), p, 'equal bytes in another object are packed on their own')
})

test('one large file packed into several archives, stored and deflated, unpacks whole and checked from each', () => {
  for (const level of [4, 0, 4, 1] as const) {
    const { manifest, files } = unpackArchive(packArchive(META, [{ name: 'lists/blacklist.tsv', data: big, entries: 20_000, level }]))
    assert.equal(manifest.files[0].sha256, packed(big).sha256)
    assert.ok(Buffer.from(big).equals(files.get('lists/blacklist.tsv') as Uint8Array))
  }
})

test('a file read from an archive is packed again with the sha256, CRC and deflate stream it came with, and unpacks the same', () => {
  const { files, deflated } = unpackArchive(packArchive(META, [{ name: 'lists/blacklist.tsv', data: big.slice(), entries: 20_000, level: 1 }]))
  const data = files.get('lists/blacklist.tsv') as Uint8Array
  const p = packed(data)
  assert.equal(p.sha256, createHash('sha256').update(big).digest('hex'))
  assert.equal(p.crc, crc32(big) >>> 0)
  assert.equal(p.deflated(4), deflated.get('lists/blacklist.tsv'), 'the stream as it came, not deflated again')
  const again = unpackArchive(packArchive(META, [{ name: 'lists/blacklist.tsv', data, entries: 20_000 }]))
  assert.ok(Buffer.from(big).equals(again.files.get('lists/blacklist.tsv') as Uint8Array))
})
