import { it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { packArchive, unpackArchive } from '../../../src/archive/zip.js'

const META = { agentVersion: '0.1.0', schemaVersion: 1, kind: 'full', origin: 'n', base: null, version: null, createdAt: '2025-06-01T12:00:00.000Z' } as const

it('unpackArchive inflates a large file into one buffer of its size, no 16 KB chunks joined', () => {
  const data = new Uint8Array(randomBytes(512 * 1024)).map(b => 97 + (b & 3))
  const zip = packArchive(META, [{ name: 'big.tsv', data, entries: 0 }])
  const concat = Buffer.concat.bind(Buffer)
  let joined = 0
  Buffer.concat = (list, length) => { joined++; return concat(list, length) }
  let out: Uint8Array | undefined
  try {
    out = unpackArchive(zip).files.get('big.tsv')
  } finally {
    Buffer.concat = concat
  }
  assert.equal(joined, 0)
  assert.ok(out !== undefined && Buffer.from(out).equals(data) && out.buffer.byteLength === data.length)
})
