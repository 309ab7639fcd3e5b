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
import { fieldValue } from '../settings/list-line.js'

/** What a list key is about; see src/settings/list-key.ts for the canonical spellings. */
export type KeyKind = 'address' | 'domain' | 'wildcard' | 'ipv4' | 'ipv6' | 'cidr4' | 'cidr6'

/** Whether a list lets mail in or keeps it out. */
export type Verdict = 'allow' | 'block'

/** The verdict each list stands for. */
export const VERDICT: Record<ListDataset, Verdict> = { whitelist: 'allow', autowhitelist: 'allow', blacklist: 'block' }

/** Lists in precedence order: the first list a key is in decides it. */
export const PRECEDENCE: readonly ListDataset[] = ['whitelist', 'blacklist', 'autowhitelist']

/** Each list's bit in ResolvedKey.mask; a lower bit takes precedence. */
export const LIST_BIT: Record<ListDataset, number> = { whitelist: 1, blacklist: 2, autowhitelist: 4 }

/** The bit mask of some lists. */
export function listMask (datasets: readonly ListDataset[]): number {
  let m = 0
  for (const ds of datasets) m |= LIST_BIT[ds]
  return m
}

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
  /** Every list the key is in, as a bit mask of LIST_BIT. */
  mask: number
  /** True when the key is in an allow list and in a block list. */
  conflict: boolean
}

/** All lists resolved, sorted by key (code unit order). */
export interface ResolvedLists {
  /** Addresses, domains and wildcard domains. */
  senders: ResolvedKey[]
  /** IP addresses and CIDR blocks. */
  ips: ResolvedKey[]
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

/**
 * Resolves the present entries of every list given (a missing list counts as empty), sorted by
 * key and split into senders and IPs.
 */
export function resolveLists (lists: Partial<Record<ListDataset, Iterable<ListItem>>>): ResolvedLists {
  const keys = resolveKeys(lists)
  keys.sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
  const senders: ResolvedKey[] = []
  const ips: ResolvedKey[] = []
  for (const k of keys) (isIpKind(k.kind) ? ips : senders).push(k)
  return { senders, ips }
}

/**
 * Resolves the present entries of every list given, in no particular order. The largest list
 * is joined against a map of the others, so a 100k-entry blacklist beside small whitelists
 * costs no map of its own.
 */
export function resolveKeys (lists: Partial<Record<ListDataset, Iterable<ListItem>>>): ResolvedKey[] {
  const arrays: Array<[ListDataset, ListItem[]]> = []
  for (const ds of PRECEDENCE) {
    const items = lists[ds]
    if (items === undefined) continue
    const present: ListItem[] = []
    for (const item of items) if (item.present !== false) present.push(item)
    arrays.push([ds, present])
  }
  let largest = -1
  for (let i = 0; i < arrays.length; i++) if (largest < 0 || arrays[i][1].length > arrays[largest][1].length) largest = i
  const others = new Map<string, ResolvedKey>()
  for (let i = 0; i < arrays.length; i++) {
    if (i === largest) continue
    const [ds, items] = arrays[i]
    for (const item of items) others.set(item.key, join(others.get(item.key), ds, item))
  }
  const keys: ResolvedKey[] = []
  if (largest >= 0) {
    const [ds, items] = arrays[largest]
    for (const item of items) {
      const other = others.get(item.key)
      if (other === undefined) keys.push(join(undefined, ds, item))
      else join(other, ds, item)
    }
  }
  for (const k of others.values()) keys.push(k)
  return keys
}

/** Resolves one key over the lists, given its entry in each (undefined: in no list). */
export function resolveKey (key: string, entry: (ds: ListDataset) => ListItem | undefined): ResolvedKey | undefined {
  let k: ResolvedKey | undefined
  for (const ds of PRECEDENCE) {
    const item = entry(ds)
    if (item !== undefined && item.present !== false) k = join(k, ds, item)
  }
  return k
}

/** Adds list `ds`'s entry to what is known of its key (a new ResolvedKey when nothing is). */
function join (k: ResolvedKey | undefined, ds: ListDataset, item: ListItem): ResolvedKey {
  const bit = LIST_BIT[ds]
  // Outputs read the value only: an entry's comment is for the people who read the list files.
  if (k === undefined) return { key: item.key, kind: keyKind(item.key), list: ds, value: fieldValue(item.value), mask: bit, conflict: false }
  k.mask |= bit
  if (bit < LIST_BIT[k.list]) {
    k.list = ds
    k.value = fieldValue(item.value)
  }
  // Both verdicts among the key's lists: an allow list and the blacklist.
  k.conflict = (k.mask & LIST_BIT.blacklist) !== 0 && (k.mask & (LIST_BIT.whitelist | LIST_BIT.autowhitelist)) !== 0
  return k
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

/** Why a key is left out of an output; one shared object per reason, so leaving out allocates nothing. */
export class LeftOutReason {
  constructor (readonly reason: string) {}
}

/** How a format renders: which kind of key it holds, and one line per key. */
export interface LineFormat {
  /** The keys it holds: senders (addresses, domains) or IPs (addresses, CIDR blocks). */
  holds: 'senders' | 'ips'
  /** Why the keys of the other kind are left out. */
  otherKind: string
  header: string
  /** The line of a key, or why it is left out. */
  line: (k: ResolvedKey) => string | LeftOutReason
  /** Lines go by rank, then by key (code unit order); absent: rank 0 for every key. */
  rank?: (k: ResolvedKey) => number
}

/** The first comment line of every rendered file (no time in it: same lists, same bytes). */
export function headerLine (format: string, datasets: readonly ListDataset[]): string {
  const names = LIST_DATASETS.filter(ds => datasets.includes(ds)).join(', ')
  return `# ${format} map written by spamsync from ${names}. Do not edit: the next change overwrites it.`
}
