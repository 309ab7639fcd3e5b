/**
 * The stamping of an operator's edit of a list file: the keys on the lines that changed between
 * two parses of the file, each staged in a replica transaction as new, changed or removed
 * (a tombstone), stamped now. Generators of their steps (pace.ts): the first scan of a 1M-line
 * file parses and stamps every line, seconds of work that ListReplica cuts into slices.
 */
import type { HybridClock } from '../crdt/hlc.js'
import { listFileName, type ListDataset } from '../constants.js'
import { keysOnChangedLines, parseSteps, type ParsedListFile } from '../settings/list-file.js'
import type { TextEdit } from '../settings/text-edit.js'
import { ENTRIES_PER_STEP } from './entry-buckets.js'
import { FileView } from './file-view.js'
import type { ReplicaTxn } from './replica-txn.js'
import { trace } from '../trace.js'

/** What a scan stamped: the new file view, and the keys left to be written when it was stamped from a base other than the view. */
export interface ScanStamped {
  next: FileView
  stale: Set<string> | undefined
}

/**
 * Stages in `txn` the edit a scan found: the settings file went from `from` (the file view, or the
 * base a write raced with) to `text` (`parsed`: its parse, when the caller has it). When `from` is
 * not `view`, the keys where the two differ are `stale`: the file may now lack what the view had.
 * `edit`: where `text` differs from `from`'s, when the caller knows (the texts are not compared then).
 */
export function * stampScan (txn: ReplicaTxn, clock: HybridClock, view: FileView, from: FileView, text: string, parsed?: ParsedListFile, edit?: TextEdit): Generator<void, ScanStamped> {
  const before = yield * from.parsedSteps()
  const stale = from === view ? undefined : yield * keysOnChangedLines(yield * view.parsedSteps(), before)
  const next = new FileView(view.dataset, text, parsed ?? (yield * parseSteps(text, listFileName(view.dataset), before, edit)))
  trace('scan-parsed', view.dataset)
  yield * stampEdit(txn, clock, before, next.parsed)
  trace('scan-stamped', view.dataset)
  return { next, stale }
}

/** Stages in `txn` the edit that changed a file of `dataset` from the text `from` to `to`. */
export function * stampTextEdit (txn: ReplicaTxn, clock: HybridClock, dataset: ListDataset, from: string, to: string): Generator<void, void> {
  const name = listFileName(dataset)
  const before = yield * parseSteps(from, name, null)
  yield * stampEdit(txn, clock, before, yield * parseSteps(to, name, before))
}

/** Stages the edit from one parse of a file to the next: new and changed entries, removed ones as tombstones, each stamped now. */
function * stampEdit (txn: ReplicaTxn, clock: HybridClock, from: ParsedListFile, to: ParsedListFile): Generator<void, void> {
  // From a file without entries (a list dropped in), each entry's line is a changed one: the
  // entries are read in line order as they are, with no set of a whole list's keys made first
  // (0.75 s CPU at 1M lines) nor each looked up again by key.
  const dropped = from.entries.size === 0
  const changes = dropped ? to.entries.entries() : inFile((yield * keysOnChangedLines(from, to)).values(), to)
  // Into a dataset that held nothing, each of those keys (once each) is new: nothing to look up.
  const fresh = dropped && txn.heldNothing
  while (stampSome(txn, clock, from, changes, fresh)) yield
}

/** Each of `keys` with its field in `to`, undefined where `to` does not hold it. */
function * inFile (keys: Iterator<string>, to: ParsedListFile): Generator<[string, string | undefined], void> {
  for (let next = keys.next(); next.done !== true; next = keys.next()) yield [next.value, to.entries.get(next.value)]
}

/**
 * Stages up to {@link ENTRIES_PER_STEP} more of `changes` (a key, and its field in the new parse
 * or undefined; `fresh`: keys each once, new to the file and the dataset); false once they are
 * done. A plain function a step long, not the generator's loop: V8 optimises it (a long loop
 * inside a generator run once ran much slower).
 */
function stampSome (txn: ReplicaTxn, clock: HybridClock, from: ParsedListFile, changes: Iterator<[string, string | undefined]>, fresh: boolean): boolean {
  for (let n = 0; n < ENTRIES_PER_STEP; n++) {
    const next = changes.next()
    if (next.done === true) return false
    const [key, value] = next.value
    if (!fresh && from.entries.get(key) === value) continue
    const current = fresh ? undefined : txn.get(key)
    if (value !== undefined) {
      if (current?.present === true && current.value === value) continue
      txn.put({ key, value, present: true, stamp: clock.now(), lseq: txn.nextLseq(), synced: false })
    } else if (current?.present === true) {
      txn.put({ key, value: '', present: false, stamp: clock.now(), lseq: txn.nextLseq(), synced: false })
    }
  }
  return true
}
