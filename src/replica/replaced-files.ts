/**
 * The list files a write replaced (temp file, rename), kept open and followed: a program that
 * opened one before the rename (an editor, a script's `>>`) may write to it after, and those
 * lines are stamped from it, else they would be lost with the old file. An append in place
 * (settings/file-append.ts) replaces nothing: what others write then lands in the file itself.
 */
import type { FileHandle } from 'node:fs/promises'
import type { ListDataset } from '../constants.js'
import { readAppendedTail } from '../settings/appended-tail.js'
import { decodeFileText, readReplaced, type ReadSettingsFile } from '../settings/settings-file.js'
import type { StoredEntry } from '../store/state-store.js'
import type { ListReplica } from './list-replica.js'

/**
 * How long a file replaced by a write is still followed for appends once a later write replaced
 * its successor. Nothing tells when a program that opened the file before the rename last writes
 * to it, so some bound is inherent: a writer stalled longer than this (and than
 * MAX_FOLLOWED_REPLACED writes) loses its lines. Stalls of a loaded machine are tens of ms.
 */
const FOLLOW_REPLACED_MS = 30_000

/** Older replaced files followed per dataset at most (each holds a descriptor); the oldest is let go first. */
const MAX_FOLLOWED_REPLACED = 32

/** A replaced file followed for appends: its descriptor, the size last seen, when it was replaced. */
interface FollowedFile {
  handle: FileHandle
  size: number
  atMs: number
}

/** The replaced list files of one settings folder. */
export class ReplacedFiles {
  /**
   * Per dataset, the file the last write replaced, still open, and the bytes it held when they
   * are not `file.bytes`: every change to it is scanned (see {@link check}).
   */
  private readonly replaced = new Map<ListDataset, { file: ReadSettingsFile, bytes: Buffer | undefined, atMs: number }>()
  /**
   * Per dataset, the files replaced before the one in `replaced`, oldest first, followed for
   * appends only (their bytes are not kept): a `>>` that opened one and was not scheduled until
   * writes replaced two files or more would be lost otherwise. Let go after FOLLOW_REPLACED_MS.
   */
  private readonly followed = new Map<ListDataset, FollowedFile[]>()

  constructor (private readonly replica: ListReplica, private readonly maxFileBytes: number) {}

  /** Closes the files kept open. */
  async close (): Promise<void> {
    for (const { file } of this.replaced.values()) await file.handle.close()
    this.replaced.clear()
    for (const files of this.followed.values()) for (const { handle } of files) await handle.close()
    this.followed.clear()
  }

  /**
   * Keeps the file a write just replaced (`bytes`: what it held after the rename, when not
   * `file.bytes`), in place of the one before, checked one last time: returns how many late edits
   * that check stamped (left to be written).
   */
  async keep (dataset: ListDataset, file: ReadSettingsFile, bytes: Buffer | undefined): Promise<number> {
    const late = (await this.check(dataset)).length
    const old = this.replaced.get(dataset)
    // Followed on from what it held at that check: a known file holds its stat's size.
    if (old !== undefined) await this.follow(dataset, { handle: old.file.handle, size: old.bytes?.length ?? (old.file.known ? Number(old.file.stat.size) : old.file.bytes.length), atMs: old.atMs })
    this.replaced.set(dataset, { file, bytes, atMs: Date.now() })
    return late
  }

  /**
   * Stamps what was written to the replaced files since they were replaced (or last checked):
   * lines appended through a descriptor opened before the rename would be lost otherwise. Their
   * entries are left to be written into the settings file.
   */
  async check (dataset: ListDataset): Promise<StoredEntry[]> {
    const older = await this.checkFollowed(dataset)
    return older.length === 0 ? await this.checkNewest(dataset) : [...older, ...await this.checkNewest(dataset)]
  }

  // Adds a file to the ones followed for appends, letting the oldest go past the cap (checked just before).
  private async follow (dataset: ListDataset, file: FollowedFile): Promise<void> {
    const files = this.followed.get(dataset) ?? []
    files.push(file)
    this.followed.set(dataset, files)
    while (files.length > MAX_FOLLOWED_REPLACED) await files.shift()?.handle.close()
  }

  /**
   * Stamps the lines appended to the older replaced files since they were last checked, then lets
   * go of those replaced more than FOLLOW_REPLACED_MS ago (after this last check).
   */
  private async checkFollowed (dataset: ListDataset): Promise<StoredEntry[]> {
    const files = this.followed.get(dataset)
    if (files === undefined) return []
    const changes: StoredEntry[] = []
    const keep: FollowedFile[] = []
    for (const f of files) {
      const tail = await readAppendedTail(f.handle, f.size, this.maxFileBytes)
      if (tail !== null && tail.after.length > tail.before.length) changes.push(...await this.replica.applyEdit(dataset, decodeFileText(tail.before), decodeFileText(tail.after)))
      if (tail === null || Date.now() - f.atMs > FOLLOW_REPLACED_MS) {
        await f.handle.close()
        continue
      }
      f.size = tail.size
      keep.push(f)
    }
    if (keep.length > 0) this.followed.set(dataset, keep)
    else this.followed.delete(dataset)
    return changes
  }

  // check() for the file the last write replaced (every change, not only appends).
  private async checkNewest (dataset: ListDataset): Promise<StoredEntry[]> {
    const old = this.replaced.get(dataset)
    if (old === undefined) return []
    const read = await readReplaced(old.file, this.maxFileBytes)
    if (read === null) {
      // Grown past the limit: no longer followed.
      await old.file.handle.close()
      this.replaced.delete(dataset)
      return []
    }
    if (read === 'unchanged' && old.bytes === undefined) return []
    const now = read === 'unchanged' ? old.file.bytes : read
    const before = old.bytes ?? old.file.bytes
    if (now.equals(before)) return []
    const changes = await this.replica.applyEdit(dataset, decodeFileText(before), decodeFileText(now))
    old.bytes = now
    return changes
  }
}
