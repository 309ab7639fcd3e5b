import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { unzipSync } from 'fflate'
import {
  ArchiveError,
  ArchiveLimitError,
  ChecksumMismatchError,
  CompressionBombError,
  CorruptArchiveError,
  DuplicateEntryError,
  ManifestError,
  UnsafeEntryNameError
} from '../../../src/errors.js'
import { DEFAULT_ARCHIVE_LIMITS } from '../../../src/archive/limits.js'
import { packArchive, sha256Hex, unpackArchive, type ArchiveMeta } from '../../../src/archive/zip.js'
import { archiveOf, buildZip, manifestEntry, manifestFor, utf8, type RawEntry } from './zip-fixtures.js'

const META: ArchiveMeta = {
  agentVersion: '0.1.0',
  schemaVersion: 1,
  kind: 'delta',
  origin: '12D3KooWExampleNodeId',
  base: { term: 2, seq: 7 },
  version: { term: 2, seq: 9 },
  createdAt: '2025-06-01T12:00:00.000Z'
}

const WHITE = utf8('spamsync-list 1\nn 0 node-a\nexample.com\t1\t1700000000000\t0\t0\tfrom ops\n')
const BLACK = utf8('spamsync-list 1\n')

// Asserts the exact error class and that the message says what is wrong.
function rejects (fn: () => unknown, cls: new (...args: any[]) => Error, message: RegExp): void {
  assert.throws(fn, cls)
  assert.throws(fn, (err: Error) => {
    assert.equal(err.constructor, cls, `expected ${cls.name}, got ${err.constructor.name}: ${err.message}`)
    assert.match(err.message, message)
    return true
  })
}

// A hand-built archive whose manifest lists `files` and whose zip holds `entries` after it.
function withManifest (files: Array<{ name: string, data: Uint8Array, size?: number }>, entries: RawEntry[],
  overrides: Record<string, unknown> = {}): Uint8Array {
  return buildZip([manifestEntry(manifestFor(files, overrides)), ...entries])
}

describe('packArchive / unpackArchive round trip', () => {
  it('returns the manifest and every file byte for byte', () => {
    const zip = packArchive(META, [
      { name: 'lists/whitelist.tsv', data: WHITE, entries: 1 },
      { name: 'lists/blacklist.tsv', data: BLACK, entries: 0 }
    ])
    const { manifest, files } = unpackArchive(zip)
    assert.deepEqual(manifest, {
      format: 'spamsync-archive',
      formatVersion: 1,
      ...META,
      files: [
        { name: 'lists/whitelist.tsv', size: WHITE.length, entries: 1, sha256: sha256Hex(WHITE) },
        { name: 'lists/blacklist.tsv', size: BLACK.length, entries: 0, sha256: sha256Hex(BLACK) }
      ]
    })
    assert.deepEqual([...files.keys()], ['lists/whitelist.tsv', 'lists/blacklist.tsv'])
    assert.deepEqual(files.get('lists/whitelist.tsv'), WHITE)
    assert.deepEqual(files.get('lists/blacklist.tsv'), BLACK)
  })

  it('round-trips an archive with no data files', () => {
    const { manifest, files } = unpackArchive(packArchive({ ...META, kind: 'full', base: null }, []))
    assert.equal(manifest.kind, 'full')
    assert.equal(files.size, 0)
  })

  it('round-trips a non-ASCII file name and an empty file', () => {
    const zip = packArchive(META, [{ name: 'données/liste-é.tsv', data: new Uint8Array(0), entries: 0 }])
    assert.deepEqual(unpackArchive(zip).files.get('données/liste-é.tsv'), new Uint8Array(0))
  })

  it('round-trips a large file that compresses well but within the ratio cap', () => {
    // Four letters at random: about 4:1, like a real list file.
    const data = new Uint8Array(randomBytes(3 * 1024 * 1024)).map(b => 97 + (b & 3))
    const zip = packArchive(META, [{ name: 'big.tsv', data, entries: 0 }])
    const out = unpackArchive(zip).files.get('big.tsv')
    assert.ok(out !== undefined && Buffer.from(out).equals(data))
  })

  it('is deterministic: the same input packs to the same bytes', () => {
    const files = [{ name: 'lists/whitelist.tsv', data: WHITE, entries: 1 }]
    assert.deepEqual(packArchive(META, files), packArchive(META, files))
  })

  it('writes a standard zip that fflate reads to the same files, deflated and stored', () => {
    const zip = packArchive(META, [{ name: 'a.tsv', data: WHITE, entries: 1 }, { name: 'b.bin', data: BLACK, entries: 0, level: 0 }])
    const files = unzipSync(zip)
    assert.deepEqual(Object.keys(files), ['manifest.json', 'a.tsv', 'b.bin'])
    assert.deepEqual(files['a.tsv'], WHITE)
    assert.deepEqual(files['b.bin'], BLACK)
  })

  it('writes manifest.json as the first entry', () => {
    const zip = packArchive(META, [{ name: 'a.tsv', data: WHITE, entries: 1 }])
    const nameLen = zip[26] | (zip[27] << 8)
    assert.equal(new TextDecoder().decode(zip.subarray(30, 30 + nameLen)), 'manifest.json')
  })

  it('packs an entry named __proto__ as a plain file', () => {
    const zip = packArchive(META, [{ name: '__proto__', data: WHITE, entries: 1 }])
    assert.deepEqual(unpackArchive(zip).files.get('__proto__'), WHITE)
  })

  it('reads an entry named __proto__ as a plain file', () => {
    const zip = archiveOf([{ name: '__proto__', data: WHITE }])
    assert.deepEqual(unpackArchive(zip).files.get('__proto__'), WHITE)
  })

  it('reads a stored (uncompressed) zip written by another tool', () => {
    const files = [{ name: 'lists/whitelist.tsv', data: WHITE }]
    const zip = buildZip([
      { ...manifestEntry(manifestFor(files)), method: 0 },
      { name: 'lists/whitelist.tsv', data: WHITE, method: 0 }
    ])
    assert.deepEqual(unpackArchive(zip).files.get('lists/whitelist.tsv'), WHITE)
  })
})

describe('packArchive refuses what a reader would refuse', () => {
  it('refuses an unsafe file name', () => {
    rejects(() => packArchive(META, [{ name: '../x', data: WHITE, entries: 1 }]), UnsafeEntryNameError, /"\.\.\/x".*'\.\.'/)
  })

  it('refuses two files with one name', () => {
    rejects(() => packArchive(META, [{ name: 'a', data: WHITE, entries: 1 }, { name: 'a', data: BLACK, entries: 0 }]),
      DuplicateEntryError, /"a"/)
  })

  it('refuses a file named manifest.json', () => {
    rejects(() => packArchive(META, [{ name: 'manifest.json', data: WHITE, entries: 1 }]), DuplicateEntryError, /manifest/)
  })

  it('refuses invalid manifest fields', () => {
    rejects(() => packArchive({ ...META, createdAt: 'yesterday' }, []), ManifestError, /createdAt/)
  })
})

describe('unpackArchive rejects unsafe names before inflating', () => {
  const unsafe: Array<[string, string, RegExp]> = [
    ['an absolute name', '/etc/passwd', /"\/etc\/passwd".*absolute/],
    ['a drive-letter name', 'C:/Windows/x', /"C:\/Windows\/x".*drive letter/],
    ['a leading .. segment', '../evil.tsv', /"\.\.\/evil\.tsv".*'\.\.'/],
    ['an inner .. segment', 'lists/../../evil.tsv', /'\.\.'/],
    ['a backslash', 'lists\\..\\evil.tsv', /backslash/],
    ['a directory entry', 'lists/', /directory/],
    ['an empty name', '', /empty name/],
    ['a control character', 'a\u0000b', /control character/],
    ['a "." segment', './a.tsv', /'\.' segment/]
  ]
  for (const [what, name, message] of unsafe) {
    it(`rejects ${what} with UnsafeEntryNameError`, () => {
      const zip = withManifest([], [{ name, data: WHITE }])
      rejects(() => unpackArchive(zip), UnsafeEntryNameError, message)
    })
  }

  it('rejects a non-ASCII name without the UTF-8 flag', () => {
    const zip = withManifest([], [{ name: new Uint8Array([0x61, 0xe9]), data: WHITE }])
    rejects(() => unpackArchive(zip), UnsafeEntryNameError, /non-ASCII/)
  })

  it('rejects an unsafe name even when the entry is a bomb (names are checked first)', () => {
    const zip = withManifest([], [{ name: '/x', data: new Uint8Array(2 * 1024 * 1024) }])
    rejects(() => unpackArchive(zip), UnsafeEntryNameError, /"\/x"/)
  })
})

describe('unpackArchive rejects duplicates', () => {
  it('rejects two entries with the same name', () => {
    const files = [{ name: 'a.tsv', data: WHITE }]
    const zip = withManifest(files, [{ name: 'a.tsv', data: WHITE }, { name: 'a.tsv', data: BLACK }])
    rejects(() => unpackArchive(zip), DuplicateEntryError, /"a\.tsv" appears more than once/)
  })

  it('rejects two names that differ only in letter case', () => {
    const zip = withManifest([], [{ name: 'a.tsv', data: WHITE }, { name: 'A.tsv', data: BLACK }])
    rejects(() => unpackArchive(zip), DuplicateEntryError, /"A\.tsv" differs from "a\.tsv" only in letter case/)
  })

  it('rejects a second manifest.json', () => {
    const zip = withManifest([], [manifestEntry(manifestFor([]))])
    rejects(() => unpackArchive(zip), DuplicateEntryError, /manifest\.json/)
  })
})

describe('unpackArchive enforces the limits before inflating', () => {
  it('rejects more entries than maxFiles', () => {
    const files = Array.from({ length: DEFAULT_ARCHIVE_LIMITS.maxFiles }, (_, i) => ({ name: `f${i}.tsv`, data: BLACK }))
    const zip = withManifest(files, files)
    rejects(() => unpackArchive(zip), ArchiveLimitError, /17 entries, the limit is 16/)
  })

  it('accepts exactly maxFiles entries', () => {
    const files = Array.from({ length: DEFAULT_ARCHIVE_LIMITS.maxFiles - 1 }, (_, i) => ({ name: `f${i}.tsv`, data: BLACK }))
    assert.equal(unpackArchive(withManifest(files, files)).files.size, 15)
  })

  it('rejects a declared total over maxTotalBytes, even when the header lies', () => {
    const size = 600 * 1024 * 1024
    const zip = withManifest([{ name: 'a.tsv', data: WHITE, size }], [{ name: 'a.tsv', data: WHITE, size }])
    rejects(() => unpackArchive(zip), ArchiveLimitError, /declare \d+ bytes in total, the limit is 536870912/)
  })

  it('rejects a truthful total over a lowered maxTotalBytes', () => {
    const data = new Uint8Array(5000)
    const zip = archiveOf([{ name: 'a.tsv', data }])
    rejects(() => unpackArchive(zip, { ...DEFAULT_ARCHIVE_LIMITS, maxTotalBytes: 4096 }), ArchiveLimitError, /limit is 4096/)
  })

  it('rejects a manifest.json larger than maxManifestBytes', () => {
    const manifest = manifestFor([], { padding: 'x'.repeat(70 * 1024) })
    const zip = buildZip([manifestEntry(manifest)])
    rejects(() => unpackArchive(zip), ArchiveLimitError, /"manifest\.json" declares \d+ bytes, the limit is 65536/)
  })

  it('rejects a manifest.json that inflates past its declared size', () => {
    const entry = manifestEntry(manifestFor([]))
    const zip = buildZip([{ ...entry, size: 10 }])
    rejects(() => unpackArchive(zip), CompressionBombError, /"manifest\.json": inflates past its declared 10 bytes/)
  })
})

describe('unpackArchive stops compression bombs', () => {
  it('rejects an entry that inflates past the size its header declares', () => {
    const data = new Uint8Array(200_000).fill(65)
    const zip = withManifest([{ name: 'a.tsv', data, size: 100 }], [{ name: 'a.tsv', data, size: 100 }])
    rejects(() => unpackArchive(zip), CompressionBombError, /"a\.tsv": inflates past its declared 100 bytes/)
  })

  it('rejects a truthfully declared 20 MiB of zeros (past 100:1) before inflating it', () => {
    const data = new Uint8Array(20 * 1024 * 1024)
    const zip = withManifest([{ name: 'zeros.tsv', data }], [{ name: 'zeros.tsv', data }])
    rejects(() => unpackArchive(zip), CompressionBombError, /"zeros\.tsv": declares 20971520 bytes from \d+ compressed, past the 100:1 ratio cap/)
  })

  it('lets small entries compress past 100:1 (the cap starts at ratioMinBytes)', () => {
    const data = new Uint8Array(512 * 1024)
    assert.deepEqual(unpackArchive(archiveOf([{ name: 'zeros.tsv', data }])).files.get('zeros.tsv'), data)
  })

  it('rejects an entry that inflates to less than it declares', () => {
    const data = new Uint8Array(1000).fill(65)
    const zip = withManifest([{ name: 'a.tsv', data, size: 2000 }], [{ name: 'a.tsv', data, size: 2000 }])
    rejects(() => unpackArchive(zip), CorruptArchiveError, /"a\.tsv": inflates to 1000 bytes, the zip declares 2000/)
  })
})

describe('unpackArchive rejects corrupt zips', () => {
  const good = (): Uint8Array => packArchive(META, [{ name: 'lists/whitelist.tsv', data: WHITE, entries: 1 }])

  it('rejects empty input', () => {
    rejects(() => unpackArchive(new Uint8Array(0)), CorruptArchiveError, /not a zip/)
  })

  it('rejects bytes that are not a zip', () => {
    rejects(() => unpackArchive(utf8('this is not a zip file, just some text that is long enough')), CorruptArchiveError,
      /no end-of-central-directory record/)
  })

  it('rejects a zip truncated by its last byte', () => {
    const zip = good()
    rejects(() => unpackArchive(zip.subarray(0, zip.length - 1)), CorruptArchiveError, /truncated/)
  })

  it('rejects every truncation of a valid zip', () => {
    const zip = good()
    for (let len = 0; len < zip.length; len++) {
      assert.throws(() => unpackArchive(zip.subarray(0, len)), CorruptArchiveError, `length ${len}`)
    }
  })

  it('rejects a bit flip in the compressed data', () => {
    const zip = good()
    // manifest.json is first: skip it and flip a bit in the middle of the data file's body.
    // Where the second entry lies comes from the central directory: the local headers carry no
    // sizes (the data descriptors after the data do).
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength)
    const cd = view.getUint32(zip.length - 22 + 16, true)
    const secondRecord = cd + 46 + view.getUint16(cd + 28, true) + view.getUint16(cd + 30, true) + view.getUint16(cd + 32, true)
    const second = view.getUint32(secondRecord + 42, true)
    const body = second + 30 + view.getUint16(second + 26, true)
    const bad = zip.slice()
    bad[body + 10] ^= 0x10
    rejects(() => unpackArchive(bad), CorruptArchiveError, /"lists\/whitelist\.tsv"/)
  })

  it('never accepts altered content: any single bit flip is refused or harmless', () => {
    const zip = good()
    const expected = unpackArchive(zip)
    for (let i = 0; i < zip.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = zip.slice()
        bad[i] ^= 1 << bit
        let result
        try {
          result = unpackArchive(bad)
        } catch (err) {
          assert.ok(err instanceof ArchiveError, `byte ${i} bit ${bit}: ${String(err)}`)
          continue
        }
        assert.deepEqual(result, expected, `byte ${i} bit ${bit} changed the content`)
      }
    }
  })

  it('rejects a CRC-32 that does not match the data', () => {
    const files = [{ name: 'a.tsv', data: WHITE }]
    const zip = withManifest(files, [{ name: 'a.tsv', data: WHITE, crc: 0x12345678 }])
    rejects(() => unpackArchive(zip), CorruptArchiveError, /"a\.tsv": CRC-32 .* the zip declares 12345678/)
  })

  it('rejects an unsupported compression method', () => {
    const files = [{ name: 'a.tsv', data: WHITE }]
    const zip = withManifest(files, [{ name: 'a.tsv', data: WHITE, method: 12 }])
    rejects(() => unpackArchive(zip), CorruptArchiveError, /"a\.tsv": unsupported compression method 12/)
  })

  it('rejects an encrypted entry', () => {
    const files = [{ name: 'a.tsv', data: WHITE }]
    const zip = withManifest(files, [{ name: 'a.tsv', data: WHITE, flags: 1 }])
    rejects(() => unpackArchive(zip), CorruptArchiveError, /"a\.tsv": encrypted/)
  })

  it('rejects a local header whose name differs from the central directory', () => {
    const files = [{ name: 'a.tsv', data: WHITE }]
    const zip = withManifest(files, [{ name: 'a.tsv', data: WHITE, localName: '../a.tsv' }])
    rejects(() => unpackArchive(zip), CorruptArchiveError, /"a\.tsv": local header has another name/)
  })

  it('rejects entries whose data overlap', () => {
    const files = [{ name: 'a.tsv', data: WHITE }, { name: 'b.tsv', data: BLACK }]
    // a.tsv is stored and claims to be long enough to swallow b.tsv's header and data.
    const claimed = WHITE.length + 30 + 'b.tsv'.length + 1
    const zip = withManifest(files, [
      { name: 'a.tsv', data: WHITE, method: 0, size: claimed, compressedSize: claimed },
      { name: 'b.tsv', data: BLACK }
    ])
    rejects(() => unpackArchive(zip), CorruptArchiveError, /"b\.tsv" overlaps entry "a\.tsv"/)
  })

  it('rejects a stored entry whose two sizes differ', () => {
    const zip = withManifest([], [{ name: 'a.tsv', data: WHITE, method: 0, size: WHITE.length + 1 }])
    rejects(() => unpackArchive(zip), CorruptArchiveError, /"a\.tsv": stored entry/)
  })
})

describe('unpackArchive checks the files against the manifest', () => {
  it('rejects a sha256 that differs from the manifest', () => {
    const zip = withManifest([{ name: 'a.tsv', data: BLACK, size: WHITE.length }], [{ name: 'a.tsv', data: WHITE }])
    rejects(() => unpackArchive(zip), ChecksumMismatchError, /"a\.tsv": sha256 is [0-9a-f]{64}, the manifest says [0-9a-f]{64}/)
  })

  it('rejects a size that differs from the manifest', () => {
    const zip = withManifest([{ name: 'a.tsv', data: WHITE, size: 3 }], [{ name: 'a.tsv', data: WHITE }])
    rejects(() => unpackArchive(zip), ChecksumMismatchError, /"a\.tsv": the zip declares \d+ bytes, the manifest 3/)
  })

  it('rejects an entry that the manifest does not list', () => {
    const zip = withManifest([], [{ name: 'extra.tsv', data: WHITE }])
    rejects(() => unpackArchive(zip), ManifestError, /"extra\.tsv" is not listed in the manifest/)
  })

  it('rejects a listed file that is missing from the zip', () => {
    const zip = withManifest([{ name: 'gone.tsv', data: WHITE }], [])
    rejects(() => unpackArchive(zip), ManifestError, /"gone\.tsv" is listed in the manifest but missing/)
  })

  it('rejects a zip without manifest.json', () => {
    const zip = buildZip([{ name: 'a.tsv', data: WHITE }])
    rejects(() => unpackArchive(zip), ManifestError, /no manifest\.json/)
  })

  it('rejects a manifest of another format version', () => {
    const zip = buildZip([manifestEntry(manifestFor([], { formatVersion: 2 }))])
    rejects(() => unpackArchive(zip), ManifestError, /unsupported archive format version 2/)
  })

  it('rejects a manifest of another settings schema version', () => {
    const zip = buildZip([manifestEntry(manifestFor([], { schemaVersion: 99 }))])
    rejects(() => unpackArchive(zip), ManifestError, /unsupported settings schema version 99/)
  })

  it('rejects a manifest that is not JSON', () => {
    const zip = buildZip([{ name: 'manifest.json', data: utf8('{"format":') }])
    rejects(() => unpackArchive(zip), ManifestError, /not valid JSON/)
  })
})
