/**
 * How `spamsync history` and `spamsync rollback` print versions and their changes. Pure: the
 * documents come from the agent's HTTP API (`GET /history`, `GET /history/T.S`, `POST /rollback`).
 */
import { LIST_DATASETS } from '../constants.js'
import { summaryLines, type ChangeSummary, type DatasetChanges, type KeyChange } from '../archive/change-summary.js'
import type { HistoryItem } from '../sync/version-history.js'
import { printable } from '../printable.js'
import { formatVersion, type Version } from '../version.js'

/** A time as every history line shows it: ISO 8601 to the second, in UTC. */
export function historyTime (iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z')
}

/** Who made a version: the node's name, else its id (or the rollback it was). */
function from (item: HistoryItem): string {
  return printable(item.name ?? item.origin, 64)
}

/** One cell: what a version changed, `-` when nothing, `?` when it was cut before summaries. */
function changesCell (item: HistoryItem): string {
  if (item.changes === undefined) return '? (cut before changes were recorded)'
  const lines = summaryLines(item.changes)
  return lines.length === 0 ? '-' : lines.join('; ')
}

/** The `GET /history` list as a table, newest first. */
export function formatHistory (items: HistoryItem[]): string {
  if (items.length === 0) return '(no versions kept here yet)\n'
  const rows = items.map(i => [formatVersion(i.version) + (i.restorable ? '' : '°'), historyTime(i.time), from(i), changesCell(i)])
  const head = ['VERSION', 'TIME', 'FROM', 'CHANGES']
  const width = (col: number): number => Math.max(head[col].length, ...rows.map(r => r[col].length))
  const line = (r: string[]): string => r.map((c, col) => col === 3 ? c : c.padEnd(width(col))).join('  ').trimEnd()
  const out = [line(head), ...rows.map(line)]
  if (items.some(i => !i.restorable && i.contentDropped !== true)) out.push('° came inside a larger update: listed, but its content is not kept here to roll back to')
  if (items.some(i => i.contentDropped === true)) out.push("° past the history's size bound (historyFloorBytes, historyFactor): listed, its content dropped")
  const reach = items.filter(i => i.restorable).at(-1)
  if (reach !== undefined && items.some(i => !i.restorable)) out.push(`a rollback here reaches back to ${formatVersion(reach.version)}`)
  return out.join('\n') + '\n'
}

/** `history --show`: one version, who made it, and the keys it changed. */
export function formatVersionDetail (item: HistoryItem): string {
  const who = item.name === undefined ? printable(item.origin, 64) : `${printable(item.name, 64)} (${printable(item.origin, 64)})`
  const out = [`version ${formatVersion(item.version)}, ${historyTime(item.time)}, from ${who}`]
  if (item.changes === undefined) {
    out.push('(cut before changes were recorded)')
  } else {
    out.push(...listChangeLines(item.changes.lists, 'nothing changed in the lists'))
    if (item.changes.bayes !== undefined) out.push(bayesLine(item.changes.bayes))
  }
  out.push(item.restorable ? 'its content is kept here: a rollback to it can run on this node as master' : item.contentDropped === true ? 'its content was dropped to keep the history within its size bound' : 'its content is not kept here (it came inside a larger update)')
  return out.join('\n') + '\n'
}

function bayesLine ({ before, after }: NonNullable<ChangeSummary['bayes']>): string {
  return `bayes: ${before.tokens} → ${after.tokens} tokens, ${before.spam} → ${after.spam} spam and ${before.ham} → ${after.ham} ham messages`
}

/** Per dataset its counts and each listed key (`+` added, `-` removed, `~` changed), then how many were not listed. */
export function listChangeLines (lists: ChangeSummary['lists'], none: string): string[] {
  const out: string[] = []
  for (const ds of LIST_DATASETS) {
    const c = lists[ds]
    if (c !== undefined) out.push(...datasetLines(ds, c))
  }
  return out.length === 0 ? [none] : out
}

function datasetLines (ds: string, c: DatasetChanges): string[] {
  const out = [`${ds}: ${c.added} added, ${c.removed} removed, ${c.changed} changed`]
  for (const k of c.keys) out.push(`  ${keyLine(k)}`)
  const more = c.added + c.removed + c.changed - c.keys.length
  if (more > 0) out.push(`  … and ${more} more`)
  return out
}

function keyLine (k: KeyChange): string {
  const key = printable(k.key)
  const value = (v: string | undefined): string => v === undefined || v === '' ? '' : printable(v)
  if (k.kind === 'added') return `+ ${key}${value(k.value) === '' ? '' : ` ${value(k.value)}`}`
  if (k.kind === 'removed') return `- ${key}${value(k.old) === '' ? '' : ` (was ${value(k.old)})`}`
  return `~ ${key} ${JSON.stringify(value(k.old))} → ${JSON.stringify(value(k.value))}`
}

/** What `rollback` prints: the change it made (or, as a dry run, would make). */
export function formatRollback (target: Version, outcome: { version: Version | null, lists: ChangeSummary['lists'] | null }): string {
  const to = formatVersion(target)
  const head = outcome.version === null
    ? `a rollback to ${to} would change (dry run, nothing was changed):`
    : `rolled the lists back to ${to}: new central version ${formatVersion(outcome.version)} (the Bayes DB is not rolled back)`
  const lines = outcome.lists === null
    ? ['(the master runs an older agent and did not say which keys changed)']
    : listChangeLines(outcome.lists, outcome.version === null ? 'nothing: the lists already equal that version' : 'no key changed: the lists already equaled that version')
  return [head, ...lines].join('\n') + '\n'
}
