// A file of its own so the timings run in a fresh process, not after the fuzz tests.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Entry } from '../../../src/crdt/lww-set.js'
import { normaliseKey } from '../../../src/settings/list-key.js'
import { decodeEntries, encodeEntries } from '../../../src/archive/list-codec.js'
import { packArchive, unpackArchive } from '../../../src/archive/zip.js'

const NODES = [
  '12D3KooWA1b2C3d4E5f6G7h8I9j0KaLbMcNdOePfQgRhSiTjUk',
  '12D3KooWZzYyXxWwVvUuTtSsRrQqPpOoNnMmLlKkJjIiHhGgFf',
  '12D3KooWQwErTyUiOpAsDfGhJkLzXcVbNm1122334455667788'
]

// The disposable-email-domains list (121,570 domains) as blacklist entries: every 7th has a
// value with a tab, every 13th is a tombstone, stamps from three nodes.
function disposableDomains (): Entry[] {
  const require = createRequire(import.meta.url)
  const domains: string[] = JSON.parse(readFileSync(require.resolve('disposable-email-domains/index.json'), 'utf8'))
  assert.ok(domains.length > 100_000)
  const set = new Map<string, Entry>()
  domains.forEach((d, i) => {
    let key: string
    try {
      key = normaliseKey(d)
    } catch {
      return
    }
    set.set(key, {
      key,
      value: i % 7 === 0 ? `ticket\t#${i}` : '',
      present: i % 13 !== 0,
      stamp: { wallMs: 1_760_000_000_000 + i, counter: i % 3, nodeId: NODES[i % 3] }
    })
  })
  return [...set.values()]
}

interface Timed<T> {
  result: T
  cpuMs: number
  wallMs: number
}

// Best of five runs after a warm-up, in CPU time of this process so that one GC pause or other
// processes on a busy machine do not decide the result; wall time is reported alongside.
function best<T> (fn: () => T): Timed<T> {
  let result = fn()
  let cpuMs = Infinity
  let wallMs = Infinity
  for (let run = 0; run < 5; run++) {
    const cpu = process.cpuUsage()
    const wall = performance.now()
    result = fn()
    wallMs = Math.min(wallMs, performance.now() - wall)
    const used = process.cpuUsage(cpu)
    cpuMs = Math.min(cpuMs, (used.user + used.system) / 1000)
  }
  return { result, cpuMs, wallMs }
}

function show (label: string, t: Timed<unknown>): string {
  return `${label} ${t.cpuMs.toFixed(1)} ms CPU (${t.wallMs.toFixed(1)} ms wall)`
}

describe('list codec speed', () => {
  const entries = disposableDomains()

  it('encodes and decodes the disposable-domains list in under 300 ms each way', (t) => {
    const encode = best(() => encodeEntries(entries))
    const decode = best(() => decodeEntries(encode.result.data))
    t.diagnostic(`${entries.length} entries, ${encode.result.data.length} bytes: ${show('encode', encode)}, ${show('decode', decode)}`)
    assert.equal(decode.result.length, entries.length)
    assert.ok(encode.cpuMs < 300, show('encode', encode))
    assert.ok(decode.cpuMs < 300, show('decode', decode))
  })

  it('packs and unpacks the encoded list (timings reported, not asserted)', (t) => {
    const { data, entries: count } = encodeEntries(entries)
    const meta = {
      agentVersion: '0.1.0',
      schemaVersion: 1,
      kind: 'full' as const,
      origin: NODES[0],
      base: null,
      version: { term: 1, seq: 1 },
      createdAt: '2025-01-01T00:00:00.000Z'
    }
    const pack = best(() => packArchive(meta, [{ name: 'lists/blacklist.tsv', data, entries: count }]))
    const unpack = best(() => unpackArchive(pack.result))
    t.diagnostic(`${data.length} -> ${pack.result.length} bytes: ${show('pack', pack)}, ${show('unpack', unpack)}`)
    assert.ok(Buffer.from(unpack.result.files.get('lists/blacklist.tsv') ?? []).equals(data))
  })
})
