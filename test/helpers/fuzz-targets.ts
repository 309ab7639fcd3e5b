/**
 * Fuzz targets shared by `scripts/fuzz.ts` (10,000+ cases each) and test/unit/fuzz (a few
 * hundred each in `npm test`). A target feeds generated input to one parser and sorts the
 * outcome: accepted, or rejected with a named error. Anything else thrown (a TypeError, a
 * RangeError, a stack overflow) fails the property, and so does an accepted result that
 * breaks the parser's promise (a list line lost, a negative count, an archive that reads back
 * other than it was written).
 */
import fc from 'fast-check'
import { SpamsyncError, ArchiveError, SaBackupError } from '../../src/errors.js'
import { parseListFile } from '../../src/settings/list-file.js'
import { renderListFile } from '../../src/settings/list-render.js'
import { parseSaBackup } from '../../src/settings/sa-backup.js'
import { archiveFileName, BAYES_ARCHIVE_FILE, buildSettingsArchive, readSettingsArchive } from '../../src/sync/settings-archive.js'
import { packArchive } from '../../src/archive/zip.js'
import { encodeEntries } from '../../src/archive/list-codec.js'
import { encodeBayes, type BayesContribution } from '../../src/archive/bayes-codec.js'
import { AGENT_VERSION, SCHEMA_VERSION } from '../../src/constants.js'
import { LIST_DATASETS, type ListDataset } from '../../src/constants.js'
import type { Entry } from '../../src/crdt/lww-set.js'
import { tokensOf } from '../../src/crdt/bayes-counters.js'

/** What one case ended with: 'accepted' or the name of the error that refused it. */
export type Outcome = string

/** One fuzz target. */
export interface FuzzTarget<T> {
  name: string
  arbitrary: fc.Arbitrary<T>
  /** Runs one case; throws (fails the property) on anything but acceptance or a named refusal. */
  run: (input: T) => Outcome
}

/** Fails the case unless `err` is one of the project's named errors of class `kind`. */
function refusal (err: unknown, kind: new (...args: any[]) => SpamsyncError): Outcome {
  if (err instanceof kind) return err.name
  throw new Error(`not a named ${kind.name}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, { cause: err })
}

// ---- list files ----

const KEYS = ['friend@example.com', 'Friend@EXAMPLE.com.', '@partner.example', '*.mailer.example', '192.0.2.7', '2001:DB8::/32',
  '10.0.0.0/8', '10.0.0.1/8', 'example.com', 'exa mple', '..', '*', '@', '*.*.x', '300.1.1.1', '::ffff:1.2.3.4', 'a@b@c', 'x'.repeat(300)]
const VALUES = ['', 'OK', 'REJECT spam', 'trusted # note', '#', 'a\tb', 'ünïcödé', '\u0000', '\\']
const WS = [' ', '\t', '  ', '\v', '\f', '\r']

const listLine: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.constantFrom(...KEYS), fc.constantFrom(...WS), fc.constantFrom(...VALUES)).map(([k, w, v]) => v === '' ? k : `${k}${w}${v}`),
  fc.constantFrom('', '# comment', '   ', '#', '\uFEFFfriend@example.com', ' # indented comment'),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 })
)

/** List-file text: lines of keys, values, comments and noise, with either line break. */
export const listFileText: fc.Arbitrary<string> = fc.tuple(fc.array(listLine, { maxLength: 30 }), fc.constantFrom('\n', '\r\n'), fc.boolean())
  .map(([lines, eol, final]) => lines.join(eol) + (final && lines.length > 0 ? eol : ''))

/**
 * parseListFile never refuses a file: bad lines are reported. Its promise checked here: every
 * invalid line is the line it reports, and writing the file back with its own entries gives
 * the same lines, so no line of the operator's is lost or changed.
 */
export const listFileTarget: FuzzTarget<string> = {
  name: 'list file (parseListFile)',
  arbitrary: fc.oneof(listFileText, fc.string({ unit: 'binary', maxLength: 400 })),
  run: (text) => {
    const parsed = parseListFile(text, 'fuzz.txt')
    for (const bad of parsed.invalid) {
      if (parsed.lines.at(bad.line - 1)?.raw !== bad.text) throw new Error(`invalid line ${bad.line} is not the line it reports`)
    }
    // Line breaks follow the file's first one when it is written back (a mixed file comes back
    // uniform); the lines themselves must come back as they were.
    const again = renderListFile(parsed, parsed.entries)
    const lines = (t: string): string[] => t.split(/\r?\n/)
    if (JSON.stringify(lines(again)) !== JSON.stringify(lines(text))) {
      throw new Error(`writing the file back changed its lines: ${JSON.stringify(text)} -> ${JSON.stringify(again)}`)
    }
    return parsed.invalid.length > 0 ? 'accepted with bad lines' : 'accepted'
  }
}

// ---- sa-learn backups ----

const VERSION_LINE = 'v\t3\tdb_version # this must be the first line!!!'
const count = fc.oneof(fc.nat(1000).map(String), fc.constantFrom('-1', '1.5', '', '9007199254740993', '0x10', '1e3', ' 7', '007'))
const token = fc.oneof(fc.stringMatching(/^[0-9a-f]{10}$/), fc.stringMatching(/^[0-9A-Fa-f]{8,12}$/), fc.string({ maxLength: 12 }))
const backupLine: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(count, count, count, token).map(([s, h, a, t]) => `t\t${s}\t${h}\t${a}\t${t}`),
  fc.tuple(fc.constantFrom('s', 'h', 'x', ''), fc.string({ maxLength: 30 })).map(([f, id]) => `s\t${f}\t${id}`),
  fc.tuple(count, fc.constantFrom('num_spam', 'num_nonspam', 'db_version', 'other')).map(([n, name]) => `v\t${n}\t${name}`),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 })
)

/** Backup text: usually a proper first line, then records, malformed records and noise. */
export const saBackupText: fc.Arbitrary<string> = fc.tuple(
  fc.oneof({ weight: 4, arbitrary: fc.constant(VERSION_LINE) }, { weight: 1, arbitrary: backupLine }),
  fc.array(backupLine, { maxLength: 30 }),
  fc.constantFrom('\n', '\r\n')
).map(([first, rest, eol]) => [first, ...rest].join(eol) + eol)

/**
 * parseSaBackup refuses a file only for its first line (SaBackupError); otherwise bad lines are
 * reported. Checked: every count it returns is a non-negative safe integer.
 */
export const saBackupTarget: FuzzTarget<string> = {
  name: 'sa-learn backup (parseSaBackup)',
  arbitrary: fc.oneof(saBackupText, fc.string({ unit: 'binary', maxLength: 400 })),
  run: (text) => {
    let parsed
    try {
      parsed = parseSaBackup(text, 'bayes.txt')
    } catch (err) {
      return refusal(err, SaBackupError)
    }
    const counts = [parsed.db.numSpam, parsed.db.numHam]
    const t = parsed.db.tokens
    counts.push(...t.spam, ...t.ham, ...t.atime)
    for (const n of counts) if (!Number.isSafeInteger(n) || n < 0) throw new Error(`count ${n} is not a non-negative safe integer`)
    return parsed.invalid.length > 0 ? 'accepted with bad lines' : 'accepted'
  }
}

// ---- archives ----

const archiveKey = fc.oneof(
  fc.constantFrom('friend@example.com', 'partner.example', '*.mailer.example', '192.0.2.7', '2001:db8::/32', 'example.com'),
  fc.stringMatching(/^[a-z][a-z0-9]{0,10}\.example$/)
)
const entry: fc.Arbitrary<Entry> = fc.record({
  key: archiveKey,
  value: fc.constantFrom('', 'OK', 'REJECT spam', 'ünïcödé'),
  present: fc.boolean(),
  stamp: fc.record({ wallMs: fc.nat(), counter: fc.nat(1000), nodeId: fc.constantFrom('node-a', 'node-b') })
})
const lists: fc.Arbitrary<Map<ListDataset, Entry[]>> = fc.dictionary(fc.constantFrom(...LIST_DATASETS), fc.uniqueArray(entry, { selector: e => e.key, maxLength: 8 }))
  .map(d => new Map(Object.entries(d) as Array<[ListDataset, Entry[]]>))

/** A well-formed archive of random entries. */
const validArchive = lists.map(l => buildSettingsArchive({ kind: 'full', origin: 'node-a', base: null, version: { term: 1, seq: 1 } }, l))

/** Ways to damage an archive: flipped bits, overwritten bytes, cuts, insertions. */
type Damage = { op: 'flip', at: number, bit: number } | { op: 'set', at: number, byte: number } | { op: 'cut', at: number } | { op: 'insert', at: number, bytes: Uint8Array }
const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.nat(255) }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) })
)

function applyDamage (zip: Uint8Array, d: Damage): Uint8Array {
  const at = zip.length === 0 ? 0 : d.at % zip.length
  switch (d.op) {
    case 'flip': { const out = zip.slice(); out[at] ^= 1 << d.bit; return out }
    case 'set': { const out = zip.slice(); out[at] = d.byte; return out }
    case 'cut': return zip.slice(0, at)
    case 'insert': return Buffer.concat([zip.subarray(0, at), d.bytes, zip.subarray(at)])
  }
}

const contribution: fc.Arbitrary<BayesContribution> = fc.record({
  nodeId: fc.constantFrom('node-a', 'node-b'),
  numSpam: fc.nat(1000),
  numHam: fc.nat(1000),
  tokens: fc.uniqueArray(fc.tuple(fc.stringMatching(/^[0-9a-f]{10}$/), fc.record({ spam: fc.nat(50), ham: fc.nat(50), atime: fc.nat(2_000_000_000) })), { selector: ([token]) => token, maxLength: 12 }),
  seen: fc.array(fc.tuple(fc.stringMatching(/^[a-z0-9@.<>]{1,20}$/), fc.constantFrom('s' as const, 'h' as const)), { maxLength: 4 })
}).map(c => ({ nodeId: c.nodeId, db: { numSpam: c.numSpam, numHam: c.numHam, tokens: tokensOf(c.tokens), seen: new Map(c.seen) } }))

/**
 * A sound zip and manifest (sizes and sha256 match) around a damaged dataset file, so the
 * damage reaches the list and Bayes decoders instead of being caught by the checksums.
 */
const damagedContent: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.tuple(fc.constantFrom(...LIST_DATASETS), fc.uniqueArray(entry, { selector: e => e.key, minLength: 1, maxLength: 8 }))
    .map(([ds, es]) => ({ name: archiveFileName(ds), ...encodeEntries(es) })),
  fc.uniqueArray(contribution, { selector: c => c.nodeId, minLength: 1, maxLength: 2 })
    .map(cs => ({ name: BAYES_ARCHIVE_FILE, ...encodeBayes(cs) }))
).chain(file => fc.array(damage, { minLength: 1, maxLength: 3 }).map(ds => packArchive(
  { agentVersion: AGENT_VERSION, schemaVersion: SCHEMA_VERSION, kind: 'full', origin: 'node-a', base: null, version: { term: 1, seq: 1 }, createdAt: '2025-01-02T03:04:05.000Z' },
  [{ name: file.name, data: ds.reduce(applyDamage, file.data), entries: file.entries }]
)))

/** Archive input: damaged valid archives, damaged dataset files in a sound envelope, random bytes, and intact archives (which must be read). */
export type ArchiveCase = { kind: 'damaged', zip: Uint8Array } | { kind: 'content', zip: Uint8Array } | { kind: 'random', zip: Uint8Array } | { kind: 'intact', zip: Uint8Array, lists: Map<ListDataset, Entry[]> }

const archiveCase: fc.Arbitrary<ArchiveCase> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(validArchive, fc.array(damage, { minLength: 1, maxLength: 3 })).map(([zip, ds]) => ({ kind: 'damaged' as const, zip: ds.reduce(applyDamage, zip) })) },
  { weight: 4, arbitrary: damagedContent.map(zip => ({ kind: 'content' as const, zip })) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 600 }).map(zip => ({ kind: 'random' as const, zip })) },
  { weight: 1, arbitrary: lists.map(l => ({ kind: 'intact' as const, lists: l, zip: buildSettingsArchive({ kind: 'full', origin: 'node-a', base: null, version: { term: 1, seq: 1 } }, l) })) }
)

function sameLists (a: Map<ListDataset, Entry[]>, b: Map<ListDataset, Entry[]>): boolean {
  const norm = (m: Map<ListDataset, Entry[]>): string => JSON.stringify(LIST_DATASETS.map(ds => (m.get(ds) ?? []).slice().sort((x, y) => x.key < y.key ? -1 : 1)))
  return norm(a) === norm(b)
}

/**
 * readSettingsArchive refuses with an ArchiveError or returns what was written: an intact
 * archive must read back its entries. A damaged one may be accepted only where the damage hit
 * bytes no check covers (a zip timestamp, a digit of createdAt); its data files are still the
 * ones the manifest's sha256 vouches for.
 */
export const archiveTarget: FuzzTarget<ArchiveCase> = {
  name: 'settings archive (readSettingsArchive)',
  arbitrary: archiveCase,
  run: (c) => {
    let archive
    try {
      archive = readSettingsArchive(c.zip)
    } catch (err) {
      if (c.kind === 'intact') throw new Error(`an intact archive was refused: ${String(err)}`, { cause: err })
      return refusal(err, ArchiveError)
    }
    if (c.kind === 'intact' && !sameLists(archive.lists, c.lists)) throw new Error('an intact archive read back other entries')
    return `accepted (${c.kind})`
  }
}

/** Every target, in the order the script reports them. */
export const FUZZ_TARGETS: Array<FuzzTarget<any>> = [listFileTarget, saBackupTarget, archiveTarget]

/** Runs `numRuns` cases of a target; returns how many ended which way. Throws fast-check's report on a failing case. */
export function fuzz<T> (target: FuzzTarget<T>, numRuns: number, seed?: number): Map<Outcome, number> {
  const outcomes = new Map<Outcome, number>()
  fc.assert(fc.property(target.arbitrary, (input) => {
    const outcome = target.run(input)
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
  }), { numRuns, seed })
  return outcomes
}
