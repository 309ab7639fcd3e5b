/**
 * The list entries an output renders, resolved once for all outputs: each key's kind, the list
 * that decides it when it is in more than one, and the keys in sorted order (so a rendering is
 * the same bytes on every node and in every run).
 *
 * Precedence, for a key in more than one list: whitelist, then blacklist, then autowhitelist.
 * The operator's whitelist is the exception to a block; a sender the operator blacklisted stays
 * blocked even when the automatic whitelist picked it up. The losing lists do not render the
 * key at all (an output of only the losing list leaves it out and says why), so Postfix,
 * SpamAssassin and rspamd all reach the same verdict for it.
 */
import { LIST_DATASETS, type ListDataset } from '../constants.js'

/** What a list key is about; see src/settings/list-key.ts for the canonical spellings. */
export type KeyKind = 'address' | 'domain' | 'wildcard' | 'ipv4' | 'ipv6' | 'cidr4' | 'cidr6'

/** Whether a list lets mail in or keeps it out. */
export type Verdict = 'allow' | 'block'

/** The verdict each list stands for. */
export const VERDICT: Record<ListDataset, Verdict> = { whitelist: 'allow', autowhitelist: 'allow', blacklist: 'block' }

/** Lists in precedence order: the first list a key is in decides it. */
export const PRECEDENCE: readonly ListDataset[] = ['whitelist', 'blacklist', 'autowhitelist']

/** One entry of a list as the renderers read it (a replica entry or a list file line). */
export interface ListItem {
  key: string
  value: string
  /** False for a tombstone, which is skipped; absent means present. */
  present?: boolean
}

/** A key as resolved over all lists. */
export interface ResolvedKey {
  key: string
  kind: KeyKind
  /** The list that decides the key (first in PRECEDENCE). */
  list: ListDataset
  /** The VALUE the deciding list gives the key ('' when none). */
  value: string
  /** Every list the key is in, in PRECEDENCE order. */
  lists: ListDataset[]
  /** True when the key is in an allow list and in a block list. */
  conflict: boolean
}

/** All lists resolved: the keys sorted by code unit order. */
export interface ResolvedLists {
  keys: ResolvedKey[]
}

/** The kind of a canonical key (a key that came out of normaliseKey). */
export function keyKind (key: string): KeyKind {
  if (key.includes('@')) return 'address'
  if (key.startsWith('*.')) return 'wildcard'
  const slash = key.includes('/')
  if (key.includes(':')) return slash ? 'cidr6' : 'ipv6'
  if (slash) return 'cidr4'
  // A domain's last label is never all digits (list-key.ts): digits and dots only is IPv4.
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    if (c !== 0x2e && (c < 0x30 || c > 0x39)) return 'domain'
  }
  return 'ipv4'
}

/** Whether a kind is an IP address or CIDR block (client) rather than a sender. */
export function isIpKind (kind: KeyKind): boolean {
  return kind === 'ipv4' || kind === 'ipv6' || kind === 'cidr4' || kind === 'cidr6'
}

/** Resolves the present entries of every list given (a missing list counts as empty). */
export function resolveLists (lists: Partial<Record<ListDataset, Iterable<ListItem>>>): ResolvedLists {
  const byKey = new Map<string, ResolvedKey>()
  for (const ds of PRECEDENCE) {
    const items = lists[ds]
    if (items === undefined) continue
    for (const item of items) {
      if (item.present === false) continue
      const seen = byKey.get(item.key)
      if (seen === undefined) {
        byKey.set(item.key, { key: item.key, kind: keyKind(item.key), list: ds, value: item.value, lists: [ds], conflict: false })
      } else {
        seen.lists.push(ds)
        if (VERDICT[ds] !== VERDICT[seen.list]) seen.conflict = true
      }
    }
  }
  // Sorting the strings alone (no comparator) takes V8's fast path: a third of the time of
  // sorting the objects by a key field, which counts for a 100k-line list.
  const names = [...byKey.keys()].sort()
  const keys = new Array<ResolvedKey>(names.length)
  for (let i = 0; i < names.length; i++) keys[i] = byKey.get(names[i])!
  return { keys }
}

/** Why an entry was left out of an output, as status counts it. */
export type LeftOut = Record<string, number>

/** One output's rendering. */
export interface Rendering {
  /** The file's content. */
  text: string
  /** Entries (lines other than comments) written. */
  written: number
  /** Entries of the output's lists that are not in the file, counted by reason. */
  leftOut: LeftOut
  /** Keys of the output's lists that are also in a list with the other verdict. */
  conflicts: number
}

/** Builds a Rendering: each format gives a line (or a reason to leave the key out) per key. */
export function renderLines (
  resolved: ResolvedLists,
  datasets: readonly ListDataset[],
  header: string,
  line: (k: ResolvedKey) => string | { leftOut: string },
  order?: (keys: ResolvedKey[]) => ResolvedKey[]
): Rendering {
  const leftOut: LeftOut = {}
  const wanted = new Set(datasets)
  let conflicts = 0
  const chosen: ResolvedKey[] = []
  for (const k of resolved.keys) {
    if (!k.lists.some(ds => wanted.has(ds))) continue
    if (k.conflict) conflicts++
    if (!wanted.has(k.list)) {
      const why = `listed in ${k.list}, which takes precedence`
      leftOut[why] = (leftOut[why] ?? 0) + 1
      continue
    }
    chosen.push(k)
  }
  const parts: string[] = [header]
  let written = 0
  for (const k of order === undefined ? chosen : order(chosen)) {
    const l = line(k)
    if (typeof l === 'string') {
      parts.push(l)
      written++
    } else {
      leftOut[l.leftOut] = (leftOut[l.leftOut] ?? 0) + 1
    }
  }
  return { text: parts.join('\n') + '\n', written, leftOut, conflicts }
}

/** The first comment line of every rendered file (no time in it: same lists, same bytes). */
export function headerLine (format: string, datasets: readonly ListDataset[]): string {
  const names = LIST_DATASETS.filter(ds => datasets.includes(ds)).join(', ')
  return `# ${format} map written by spamsync from ${names}. Do not edit: the next change overwrites it.`
}
