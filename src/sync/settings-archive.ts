/**
 * Settings archives built from and read into the replica: a full one holds every entry
 * (tombstones too, so a delete travels), a delta only those changed since a point.
 */
import { AGENT_VERSION, LIST_DATASETS, SCHEMA_VERSION, type ListDataset } from '../constants.js'
import { ManifestError } from '../errors.js'
import { packArchive, unpackArchive, type ArchiveInputFile } from '../archive/zip.js'
import { decodeList, encodeColumns, encodeEntries, type EncodedList } from '../archive/list-codec.js'
import { EntryColumns } from '../crdt/entry-columns.js'
import { decodeBayesSections, encodeBayes, type BayesContribution, type EncodedBayes, type EncodedContribution } from '../archive/bayes-codec.js'
import { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from '../archive/limits.js'
import type { Manifest } from '../archive/manifest.js'
import type { Entry } from '../crdt/lww-set.js'
import type { Version } from '../version.js'

/** Name of a list dataset's file inside an archive. */
export function archiveFileName (dataset: ListDataset): string {
  return `${dataset}.list`
}

/** Name of the Bayes dataset's file inside an archive (compact binary, see archive-v1.md). */
export const BAYES_ARCHIVE_FILE = 'bayes.bin'

/** What goes into an archive besides the entries. */
export interface ArchiveMeta {
  kind: 'full' | 'delta'
  origin: string
  base: Version | null
  version: Version | null
}

/** An archive as read: its manifest and the entries of each dataset it carries. */
export interface SettingsArchive {
  manifest: Manifest
  lists: Map<ListDataset, Entry[]>
  /** Each list file's raw deflate stream as the archive holds it, when deflated (a view into the zip). */
  deflatedLists: Map<ListDataset, Uint8Array>
  /** Each list file that is exactly what this agent encodes of its entries (DecodedList.canonical), as it came: it can be passed on as is. */
  encodedLists: Map<ListDataset, EncodedList>
  /** Bayes contributions (checked, as sections of the archive's file: decoded when merged), or null when the archive carries none. */
  bayes: EncodedContribution[] | null
  /** List files checked against the manifest but not decoded ({@link ReadOptions.leaveUndecoded}), by dataset. */
  undecoded: Map<ListDataset, UndecodedList>
}

/** A list file as it came in an archive, not decoded yet. */
export interface UndecodedList {
  data: Uint8Array
  /** Of `data`, as the manifest gives it (checked by unpackArchive). */
  sha256: string
  /** The file's deflated bytes in the archive, when it was deflated. */
  deflated?: Uint8Array
}

/** How an archive is read. */
export interface ReadOptions {
  limits?: ArchiveLimits
  /**
   * A list file (sha256 of its bytes) this node encoded itself, so it is known valid: its
   * entries are decoded only if {@link decodeLeftOut} asks (an upload fetched back, own-uploads.ts).
   */
  leaveUndecoded?: (sha256: string) => boolean
}

/**
 * bayes.bin is stored, not deflated: its columns are mostly random token bits, already coded
 * near their entropy (about 5.4 bytes a token, bayes-codec.ts), and deflate took about 0.5 s per
 * million tokens to save about 30% of the version 1 layout.
 */
const BAYES_PACK_LEVEL = 0 as const

/**
 * Packs the given entries (objects, columns, or a list file already encoded) of each list
 * dataset and Bayes contributions (or a Bayes file already encoded); what is left out is not in
 * the archive.
 */
export function buildSettingsArchive (meta: ArchiveMeta, lists: ReadonlyMap<ListDataset, Iterable<Entry> | EntryColumns | EncodedList>, bayes: BayesContribution[] | EncodedBayes | null = null): Uint8Array {
  const files: ArchiveInputFile[] = []
  for (const dataset of LIST_DATASETS) {
    const entries = lists.get(dataset)
    if (entries === undefined) continue
    const { data, entries: count } = entries instanceof EntryColumns ? encodeColumns(entries) : Symbol.iterator in entries ? encodeEntries(entries) : entries
    files.push({ name: archiveFileName(dataset), data, entries: count })
  }
  if (bayes !== null) {
    const { data, entries } = Array.isArray(bayes) ? encodeBayes(bayes) : bayes
    files.push({ name: BAYES_ARCHIVE_FILE, data, entries, level: BAYES_PACK_LEVEL })
  }
  return packArchive({
    agentVersion: AGENT_VERSION,
    schemaVersion: SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    ...meta
  }, files)
}

/** Unpacks and decodes an archive; throws a named ArchiveError and returns nothing if any part is bad. */
export function readSettingsArchive (zip: Uint8Array, opts: ReadOptions = {}): SettingsArchive {
  const { manifest, files, deflated } = unpackArchive(zip, opts.limits ?? DEFAULT_ARCHIVE_LIMITS)
  const byName = new Map(LIST_DATASETS.map(ds => [archiveFileName(ds), ds]))
  const archive: SettingsArchive = { manifest, lists: new Map(), deflatedLists: new Map(), encodedLists: new Map(), bayes: null, undecoded: new Map() }
  for (const [name, data] of files) {
    const file = manifest.files.find(f => f.name === name)
    const expectedEntries = file?.entries
    if (name === BAYES_ARCHIVE_FILE) {
      // Kept as sections: an archive waiting for the merge queue holds ~5.4 B a token, not 20, and
      // a merge stores a contribution new to it as it came.
      archive.bayes = decodeBayesSections(data, { name, expectedEntries })
      continue
    }
    const dataset = byName.get(name)
    if (dataset === undefined) throw new ManifestError(`archive file ${name} is not a dataset of schema ${SCHEMA_VERSION}`)
    // unpackArchive checked the bytes against the manifest's sha256.
    const left = { data, sha256: file?.sha256 ?? '', deflated: deflated.get(name) }
    if (file !== undefined && opts.leaveUndecoded?.(file.sha256) === true) archive.undecoded.set(dataset, left)
    else takeList(archive, dataset, left)
  }
  return archive
}

/** Decodes a list file into the archive's lists, with its encoding and deflated bytes kept for passing on as they came. */
function takeList (archive: SettingsArchive, dataset: ListDataset, file: UndecodedList): void {
  const name = archiveFileName(dataset)
  const decoded = decodeList(file.data, { name, expectedEntries: archive.manifest.files.find(f => f.name === name)?.entries })
  archive.lists.set(dataset, decoded.entries)
  if (decoded.canonical) archive.encodedLists.set(dataset, { data: file.data, entries: decoded.entries.length, present: decoded.present })
  if (file.deflated !== undefined) archive.deflatedLists.set(dataset, file.deflated)
}

/** Decodes a list file {@link readSettingsArchive} left undecoded into the archive's lists. */
export function decodeLeftOut (archive: SettingsArchive, dataset: ListDataset): void {
  const left = archive.undecoded.get(dataset)
  if (left === undefined) return
  archive.undecoded.delete(dataset)
  takeList(archive, dataset, left)
}
