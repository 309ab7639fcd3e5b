/**
 * What a central version changed, as `spamsync history` and the page show it: per list dataset
 * how many keys were added, removed or given another value (and the first few of them), and the
 * Bayes DB's token and message counts before and after. Pure: the engine feeds it the entries a
 * commit replaced and the ones that replaced them; it keeps no more than a summary per version.
 */
import { LIST_DATASETS, type ListDataset } from '../constants.js'
import type { Entry } from '../crdt/lww-set.js'
import { printable } from '../printable.js'
import type { Version } from '../version.js'

/** Changed keys listed per dataset and version; the counts stay exact beyond it (a 121k-line import lists 50). */
export const MAX_LISTED_KEYS = 50

/** Changed keys a rollback (or its dry run) lists per dataset: the operator's answer, not kept in any history. */
export const ROLLBACK_LISTED_KEYS = 1000

/** Characters of a listed key or value: a summary travels to every node and sits in every history. */
export const MAX_LISTED_TEXT = 120

/** How one key changed. */
export type KeyChangeKind = 'added' | 'removed' | 'changed'

/** One listed key: what it holds now (`value`) and held before (`old`), cut to {@link MAX_LISTED_TEXT}. */
export interface KeyChange {
  key: string
  kind: KeyChangeKind
  /** The new value (added, changed). */
  value?: string
  /** The value before (changed, removed). */
  old?: string
}

/** A dataset's changes in one version. */
export interface DatasetChanges {
  added: number
  removed: number
  changed: number
  /** The first {@link MAX_LISTED_KEYS} (a rollback's: {@link ROLLBACK_LISTED_KEYS}) changed keys in key order. */
  keys: KeyChange[]
}

/** The Bayes DB's size at a version. */
export interface BayesCounts {
  tokens: number
  /** Messages learned as spam / as ham (sa-learn's num_spam, num_nonspam). */
  spam: number
  ham: number
}

/** What one version changed; a dataset it left alone has no entry. */
export interface ChangeSummary {
  lists: Partial<Record<ListDataset, DatasetChanges>>
  /** Before and after, when the Bayes DB is synced and the counts moved. */
  bayes?: { before: BayesCounts, after: BayesCounts }
}

/**
 * What a rollback changed (or, as a dry run, would change): the new central version (null for a
 * dry run) and the keys per dataset (null: a master before summaries did not say).
 */
export interface RollbackOutcome {
  version: Version | null
  lists: ChangeSummary['lists'] | null
}

/** How `after` changed a key that held `before` (undefined: it was never seen); null: no visible change. */
export function changeKind (before: Entry | undefined, after: Entry): KeyChangeKind | null {
  const was = before?.present === true
  if (after.present) return !was ? 'added' : before.value !== after.value ? 'changed' : null
  return was ? 'removed' : null
}

/**
 * Counts and lists the changes of one dataset from each changed key's first and last state. Only
 * the first `listed` keys in key order are kept while counting, not every change sorted: a version
 * cut after a 121k-line list was dropped in sorted 121k changes to list 50 (~95 ms of the master's CPU).
 */
export function summarizeDataset (changes: Iterable<{ before: Entry | undefined, after: Entry }>, listed = MAX_LISTED_KEYS): DatasetChanges {
  const out: DatasetChanges = { added: 0, removed: 0, changed: 0, keys: [] }
  // The smallest keys seen so far, in key order, at most `listed`.
  const first: Array<{ before: Entry | undefined, after: Entry, kind: KeyChangeKind }> = []
  for (const { before, after } of changes) {
    const kind = changeKind(before, after)
    if (kind === null) continue
    out[kind]++
    if (listed <= 0 || (first.length === listed && after.key >= first[listed - 1].after.key)) continue
    let lo = 0
    let hi = first.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (first[mid].after.key < after.key) lo = mid + 1
      else hi = mid
    }
    first.splice(lo, 0, { before, after, kind })
    if (first.length > listed) first.pop()
  }
  out.keys = first.map(({ before, after, kind }) => listedKey(before, after, kind))
  return out
}

function listedKey (before: Entry | undefined, after: Entry, kind: KeyChangeKind): KeyChange {
  const change: KeyChange = { key: printable(after.key, MAX_LISTED_TEXT), kind }
  if (kind !== 'removed') change.value = printable(after.value, MAX_LISTED_TEXT)
  if (kind !== 'added' && before !== undefined) change.old = printable(before.value, MAX_LISTED_TEXT)
  return change
}

/** True when a summary records no change at all. */
export function isEmptySummary (s: ChangeSummary): boolean {
  return Object.keys(s.lists).length === 0 && s.bayes === undefined
}

/**
 * The changes since the last version was cut, collected commit by commit: per key the state
 * before the first commit that touched it and after the last one, so a key added and removed
 * again between two versions shows as no change. {@link take} summarises and starts anew.
 */
export class ChangeTracker {
  private readonly touched = new Map<ListDataset, Map<string, { before: Entry | undefined, after: Entry }>>()
  /**
   * Per dataset, the one commit recorded since the last take, as it came (its keys are distinct):
   * a version cut after a whole list was merged summarises its changes without a map of 121k keys
   * (~130 ms of the master's CPU, more under the agent's V8 flags). A second commit folds it into {@link touched}.
   */
  private readonly single = new Map<ListDataset, ReadonlyArray<{ before: Entry | undefined, after: Entry }>>()

  /** One committed change of `dataset`: `before` is what the replica held (undefined: nothing). */
  record (dataset: ListDataset, before: Entry | undefined, after: Entry): void {
    this.fold(dataset)
    let keys = this.touched.get(dataset)
    if (keys === undefined) {
      keys = new Map()
      this.touched.set(dataset, keys)
    }
    const seen = keys.get(after.key)
    if (seen === undefined) keys.set(after.key, { before, after })
    else seen.after = after
  }

  /** The changes of one commit of `dataset`, each key once; the array is kept as it is until the next take, so it must not change. */
  recordCommit (dataset: ListDataset, changes: ReadonlyArray<{ before: Entry | undefined, after: Entry }>): void {
    if (!this.touched.has(dataset) && !this.single.has(dataset)) {
      this.single.set(dataset, changes)
      return
    }
    for (const { before, after } of changes) this.record(dataset, before, after)
  }

  // Moves the single commit held for `dataset` into the per-key map.
  private fold (dataset: ListDataset): void {
    const changes = this.single.get(dataset)
    if (changes === undefined) return
    this.single.delete(dataset)
    const keys = new Map<string, { before: Entry | undefined, after: Entry }>()
    for (const { before, after } of changes) keys.set(after.key, { before, after })
    this.touched.set(dataset, keys)
  }

  /** The list changes collected since the last take (datasets without a visible change left out); clears them. */
  take (): ChangeSummary['lists'] {
    const lists: ChangeSummary['lists'] = {}
    for (const ds of LIST_DATASETS) {
      const keys = this.single.get(ds) ?? this.touched.get(ds)?.values()
      if (keys === undefined) continue
      const changes = summarizeDataset(keys)
      if (changes.added + changes.removed + changes.changed > 0) lists[ds] = changes
    }
    this.clear()
    return lists
  }

  /** Forgets what was collected (this node stopped cutting versions). */
  clear (): void {
    this.touched.clear()
    this.single.clear()
  }
}

/** The Bayes part of a summary: present only when a count moved. */
export function bayesChange (before: BayesCounts | undefined, after: BayesCounts | undefined): ChangeSummary['bayes'] {
  if (after === undefined) return undefined
  const from = before ?? { tokens: 0, spam: 0, ham: 0 }
  if (from.tokens === after.tokens && from.spam === after.spam && from.ham === after.ham) return undefined
  return { before: from, after }
}

/** One line per dataset that changed, e.g. `whitelist +3 -1 ~2`, and `bayes 1200→1350 tokens, 40→42 messages`. */
export function summaryLines (s: ChangeSummary): string[] {
  const out: string[] = []
  for (const ds of LIST_DATASETS) {
    const c = s.lists[ds]
    if (c !== undefined) out.push(`${ds} +${c.added} -${c.removed} ~${c.changed}`)
  }
  if (s.bayes !== undefined) {
    const { before, after } = s.bayes
    out.push(`bayes ${before.tokens}→${after.tokens} tokens, ${before.spam + before.ham}→${after.spam + after.ham} messages`)
  }
  return out
}
