import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ArchiveLimitError, ManifestError } from '../../../src/errors.js'
import { DEFAULT_ARCHIVE_LIMITS } from '../../../src/archive/limits.js'
import { entryNameProblem, parseManifest, serializeManifest, type Manifest } from '../../../src/archive/manifest.js'
import { manifestFor, utf8 } from './zip-fixtures.js'

const FILE = { name: 'lists/whitelist.tsv', data: utf8('spamsync-list 1\n') }

function parse (overrides: Record<string, unknown>): Manifest {
  return parseManifest(utf8(JSON.stringify(manifestFor([FILE], overrides))))
}

function rejects (overrides: Record<string, unknown>, message: RegExp): void {
  assert.throws(() => parse(overrides), ManifestError)
  assert.throws(() => parse(overrides), { message })
}

describe('parseManifest', () => {
  it('accepts a valid manifest and returns it typed', () => {
    const m = parse({})
    assert.equal(m.format, 'spamsync-archive')
    assert.equal(m.files[0].name, 'lists/whitelist.tsv')
    assert.deepEqual(m.version, { term: 1, seq: 1 })
  })

  it('round-trips through serializeManifest', () => {
    const m = parse({ kind: 'delta', base: { term: 1, seq: 0 } })
    assert.deepEqual(parseManifest(serializeManifest(m)), m)
  })

  it('accepts a local export: version null', () => {
    assert.equal(parse({ version: null }).version, null)
  })

  it('rejects bytes over maxManifestBytes with ArchiveLimitError', () => {
    const bytes = utf8(JSON.stringify(manifestFor([FILE])))
    assert.throws(() => parseManifest(bytes, { ...DEFAULT_ARCHIVE_LIMITS, maxManifestBytes: 10 }), ArchiveLimitError)
  })

  it('rejects invalid UTF-8', () => {
    assert.throws(() => parseManifest(new Uint8Array([0x7b, 0xff, 0x7d])), { name: 'ManifestError', message: /UTF-8/ })
  })

  it('rejects JSON that is not an object', () => {
    assert.throws(() => parseManifest(utf8('[1,2]')), { name: 'ManifestError', message: /must be a JSON object/ })
  })

  it('rejects another format name', () => rejects({ format: 'zip' }, /not a spamsync archive: format is "zip"/))
  it('rejects another format version', () => rejects({ formatVersion: 2 }, /unsupported archive format version 2/))
  it('rejects a non-integer format version', () => rejects({ formatVersion: '1' }, /formatVersion must be an integer/))
  it('reports a newer format version before its unknown fields', () => {
    rejects({ formatVersion: 3, newField: true }, /unsupported archive format version 3/)
  })

  it('rejects another schema version', () => rejects({ schemaVersion: 2 }, /unsupported settings schema version 2 \(this agent uses 1\)/))
  it('rejects an unknown field', () => rejects({ extra: 1 }, /unknown field "extra"/))
  it('rejects an unknown kind', () => rejects({ kind: 'partial' }, /kind must be "full" or "delta", got "partial"/))
  it('rejects an empty agentVersion', () => rejects({ agentVersion: '' }, /agentVersion must be a non-empty string/))
  it('rejects a non-string origin', () => rejects({ origin: 42 }, /origin must be a non-empty string/))
  it('rejects an origin with a newline', () => rejects({ origin: 'a\nb' }, /origin/))
  it('rejects a full archive with a base', () => rejects({ base: { term: 1, seq: 1 } }, /base must be null in a full archive/))
  it('rejects a delta archive without a base', () => rejects({ kind: 'delta' }, /base is required in a delta archive/))
  it('rejects a missing base', () => rejects({ base: undefined }, /base is missing/))
  it('rejects a base newer than the version', () => {
    rejects({ kind: 'delta', base: { term: 2, seq: 1 }, version: { term: 1, seq: 9 } }, /base 2\.1 is newer than version 1\.9/)
  })

  it('rejects a negative version field', () => rejects({ version: { term: 1, seq: -1 } }, /version\.seq must be a non-negative integer/))
  it('rejects a fractional version field', () => rejects({ version: { term: 1.5, seq: 1 } }, /version\.term/))
  it('rejects an extra version field', () => rejects({ version: { term: 1, seq: 1, x: 0 } }, /version has an unknown field "x"/))
  it('rejects a createdAt that is not ISO 8601', () => rejects({ createdAt: 'Tue, 1 Jan 2025' }, /createdAt must be an ISO 8601/))
  it('rejects a createdAt without a zone', () => rejects({ createdAt: '2025-01-01T00:00:00' }, /createdAt/))
  it('rejects files that is not an array', () => rejects({ files: {} }, /files must be an array/))

  it('rejects more files than maxFiles - 1', () => {
    const files = Array.from({ length: 16 }, (_, i) => ({ name: `f${i}`, size: 0, entries: 0, sha256: '0'.repeat(64) }))
    rejects({ files }, /files lists 16 files, at most 15/)
  })

  it('rejects an unsafe file name', () => {
    rejects({ files: [{ name: '../x', size: 0, entries: 0, sha256: '0'.repeat(64) }] }, /files\[0\]\.name "\.\.\/x" is unsafe/)
  })

  it('rejects a file named manifest.json', () => {
    rejects({ files: [{ name: 'manifest.json', size: 0, entries: 0, sha256: '0'.repeat(64) }] }, /must not be "manifest\.json"/)
  })

  it('rejects a file listed twice', () => {
    const f = { name: 'a', size: 0, entries: 0, sha256: '0'.repeat(64) }
    rejects({ files: [f, f] }, /files\[1\]\.name "a" is listed twice/)
  })

  it('rejects a negative size', () => {
    rejects({ files: [{ name: 'a', size: -1, entries: 0, sha256: '0'.repeat(64) }] }, /files\[0\]\.size must be a non-negative integer/)
  })

  it('rejects an upper-case or short sha256', () => {
    rejects({ files: [{ name: 'a', size: 0, entries: 0, sha256: 'A'.repeat(64) }] }, /files\[0\]\.sha256 must be 64 lower-case hex/)
    rejects({ files: [{ name: 'a', size: 0, entries: 0, sha256: 'abc' }] }, /sha256/)
  })

  it('rejects an unknown field in a file', () => {
    rejects({ files: [{ name: 'a', size: 0, entries: 0, sha256: '0'.repeat(64), mode: 493 }] }, /files\[0\] has an unknown field "mode"/)
  })
})

describe('entryNameProblem', () => {
  it('accepts plain relative paths', () => {
    for (const name of ['a', 'lists/whitelist.tsv', 'bayes/backup.txt', 'données.tsv', 'a..b', '.hidden']) {
      assert.equal(entryNameProblem(name), undefined, name)
    }
  })

  it('names the problem of each unsafe form', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/], ['/a', /absolute/], ['c:x', /drive letter/], ['a\\b', /backslash/], ['a/../b', /'\.\.'/],
      ['..', /'\.\.'/], ['a/', /directory/], ['a//b', /empty path segment/], ['a/./b', /'\.'/], ['ab:c', /colon/],
      ['a\tb', /control/], ['x'.repeat(256), /longer than 255/]
    ]
    for (const [name, problem] of cases) assert.match(entryNameProblem(name) ?? 'accepted', problem, JSON.stringify(name))
  })
})
