/**
 * The file views of a node's list datasets (file-view.ts), and when a large one's text is held.
 * The store has every view (its full text and patches on it, view-patch.ts), written in the
 * same batch as the change that made it, so the text need not stay in memory while the agent is
 * idle: VIEW_HOLD_MS after the last use a view's text is let go (its parse's columns are kept:
 * FileView.releaseSteps), and the next use reads the text back from the store (checked to be the
 * text let go: FileView.restore). The
 * 121,570-line blacklist's view was 3.7 MB of text (UTF-16: a few of its lines are not ASCII)
 * and 1.6 MB of parse held for as long as the agent stayed idle (the parse's columns stay:
 * parsing a 1M-line text read back took seconds on the first change after idle).
 */
import { LIST_DATASETS, type ListDataset } from '../constants.js'
import { letGo } from '../large-garbage.js'
import { finishPaced, pacer, type Pause } from '../pace.js'
import { decodeFileText, encodeFileText } from '../settings/settings-file.js'
import { fileViewName, fileViewPatchName, type StateStore, type StoreBatch } from '../store/state-store.js'
import { bytesDigest, FileView } from './file-view.js'
import { applyViewPatches, MAX_PATCH_SHARE, MAX_VIEW_PATCHES, viewPatch } from './view-patch.js'

/** How long a view's text is held after its last use: the writes after a change, a second scan, follow within seconds. */
export const VIEW_HOLD_MS = 30_000

/**
 * How long after the last use a view's text read from pieces (spliced-text.ts) is made one
 * string: after a change's steps, before the next change's scan reads it.
 */
export const SETTLE_MS = 500

/** A view with a shorter text is always held: reading it back would cost more than it frees. */
export const MIN_RELEASED_TEXT = 64 * 1024

/** The patches stored on a dataset's full file view (view-patch.ts): how many, and their bytes. */
export interface StoredPatches {
  count: number
  bytes: number
}

/** A dataset's stored file view: its text (the full text with its patches applied) and the patches stored. */
export async function readStoredView (store: StateStore, dataset: ListDataset): Promise<{ text: string, patches: StoredPatches, digest?: string }> {
  const stored = await store.getBlob(fileViewName(dataset))
  const patches = await store.blobsWithPrefix(fileViewPatchName(dataset, 0).slice(0, -8))
  const text = applyViewPatches(stored === undefined ? '' : decodeFileText(stored), patches)
  // Without patches the text is the stored bytes decoded: they are hashed, not the text encoded again.
  const digest = stored !== undefined && patches.length === 0 ? bytesDigest(stored) : undefined
  return { text, digest, patches: { count: patches.length, bytes: patches.reduce((sum, [, patch]) => sum + patch.length, 0) } }
}

/** How the store gets a new file view: the blobs to write, and the patches stored after them. */
export interface ViewWrite {
  blobs: NonNullable<StoreBatch['blobs']>
  patches: StoredPatches
}

/** The file view of each list dataset, held while in use. */
export class FileViews {
  /** Tasks under way that use the views ({@link hold}): none is let go meanwhile. */
  private busy = 0
  private lastUse = 0
  private timer: ReturnType<typeof setTimeout> | null = null
  private settleTimer: ReturnType<typeof setTimeout> | null = null

  private constructor (
    private readonly store: StateStore,
    private readonly views: Map<ListDataset, FileView>,
    /** Per dataset, the patches stored on its view's full text (see view-patch.ts). */
    readonly patches: Map<ListDataset, StoredPatches>,
    private readonly holdMs: number,
    private readonly pause: Pause,
    private readonly now: () => number
  ) {}

  /** Reads every dataset's view from the store; `pause` paces the parse a view is let go after (pace.ts). */
  static async load (store: StateStore, holdMs = VIEW_HOLD_MS, pause: Pause = pacer(), now: () => number = Date.now): Promise<FileViews> {
    const views = new Map<ListDataset, FileView>()
    const patches = new Map<ListDataset, StoredPatches>()
    for (const ds of LIST_DATASETS) {
      const stored = await readStoredView(store, ds)
      views.set(ds, new FileView(ds, stored.text))
      patches.set(ds, stored.patches)
    }
    const out = new FileViews(store, views, patches, holdMs, pause, now)
    out.touch()
    return out
  }

  /** A dataset's view as held: its text may be let go (FileView.released); {@link loaded} reads it back. */
  current (dataset: ListDataset): FileView {
    const view = this.views.get(dataset)
    if (view === undefined) throw new Error(`unknown dataset ${dataset}`)
    return view
  }

  /** A dataset's view with its text, read back from the store when it was let go. */
  async loaded (dataset: ListDataset): Promise<FileView> {
    const view = this.current(dataset)
    if (!view.released) {
      this.touch()
      return view
    }
    return await this.hold(async () => {
      const { text, digest } = await readStoredView(this.store, dataset)
      // Another task may have read it back meanwhile.
      if (view.released) view.restore(text, fileViewName(dataset), digest)
      return view
    })
  }

  /**
   * How the store gets `next`, the dataset's new view: a patch of the stored one (held: the
   * change that makes the new view read it), or its full text, which replaces the patches.
   */
  storedAs (dataset: ListDataset, next: FileView): ViewWrite {
    const patches = this.patches.get(dataset) ?? { count: 0, bytes: 0 }
    const text = next.text
    const before = this.current(dataset)
    const patch = patches.count < MAX_VIEW_PATCHES ? viewPatch(before.reader, next.reader, next.editFrom(before)) : null
    if (patch !== null && patches.bytes + patch.length <= text.length * MAX_PATCH_SHARE) {
      return { blobs: [{ name: fileViewPatchName(dataset, patches.count), value: patch }], patches: { count: patches.count + 1, bytes: patches.bytes + patch.length } }
    }
    const blobs: ViewWrite['blobs'] = [{ name: fileViewName(dataset), value: encodeFileText(text) }]
    for (let n = 0; n < patches.count; n++) blobs.push({ name: fileViewPatchName(dataset, n), value: null })
    return { blobs, patches: { count: 0, bytes: 0 } }
  }

  /** Makes `view` the dataset's view (it was written to the store). */
  set (dataset: ListDataset, view: FileView): void {
    this.views.set(dataset, view)
    this.touch()
  }

  /** Runs `task`, which uses the views: none is let go before it settled. */
  async hold<T> (task: () => Promise<T>): Promise<T> {
    this.busy++
    try {
      return await task()
    } finally {
      this.busy--
      this.touch()
    }
  }

  // Marks a use: the views are let go holdMs after the last one.
  private touch (): void {
    this.lastUse = this.now()
    if (this.timer === null) this.arm(this.holdMs)
    this.settleTimer ??= this.armSettle(SETTLE_MS)
  }

  // Settles the views' texts (FileView.settle) SETTLE_MS after the last use.
  private armSettle (ms: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      const left = this.lastUse + SETTLE_MS - this.now()
      // A task under way arms it again when it ends (hold).
      this.settleTimer = this.busy === 0 && left > 0 ? this.armSettle(left) : null
      if (this.busy === 0 && left <= 0) for (const view of this.views.values()) view.settle()
    }, ms)
    timer.unref()
    return timer
  }

  private arm (ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null
      const left = this.lastUse + this.holdMs - this.now()
      if (this.busy > 0) return // the task's end arms it again
      if (left > 0) this.arm(left)
      else void this.releaseIdle()
    }, ms)
    this.timer.unref()
  }

  // Lets go of the large views' texts, unless a use comes first.
  private async releaseIdle (): Promise<void> {
    const since = this.lastUse
    let chars = 0
    for (const view of this.views.values()) {
      if (view.released || view.text.length < MIN_RELEASED_TEXT) continue
      // The report of bad lines is kept (status shows it), and the parse's columns: the parse, when
      // there is none yet (a view read from the store at the start), is made in steps, not in one piece.
      await finishPaced(view.releaseSteps(), this.pause)
      if (this.busy > 0 || this.lastUse !== since) break
      chars += view.release()
    }
    letGo(chars)
  }
}
