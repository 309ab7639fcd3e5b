/**
 * `postfix-cidr`: a cidr_table(5) of the IPv4/IPv6 addresses and CIDR blocks, for
 * `check_client_access cidr:PATH` (no `postmap` needed; Postfix rereads it on `postfix reload`).
 *
 * A cidr table is searched in order and the first match wins, so the most specific block comes
 * first (longest prefix, as a router would): a whitelisted address inside a blacklisted block
 * is let in. Actions as in postfix-access.ts.
 */
import type { ListDataset } from '../constants.js'
import { postfixAction } from './postfix-access.js'
import { headerLine, renderLines, type Rendering, type ResolvedKey, type ResolvedLists } from './lists.js'

/** Prefix length of an IP or CIDR key (32/128 for a plain address). */
function prefixOf (k: ResolvedKey): number {
  const slash = k.key.indexOf('/')
  if (slash >= 0) return Number(k.key.slice(slash + 1))
  return k.kind === 'ipv4' ? 32 : 128
}

/** IPv4 before IPv6 (the families never overlap), each most specific first, then by key. */
export function mostSpecificFirst (keys: ResolvedKey[]): ResolvedKey[] {
  const ip = keys.map(k => ({ k, p: prefixOf(k), v6: k.kind === 'ipv6' || k.kind === 'cidr6' }))
  ip.sort((a, b) => Number(a.v6) - Number(b.v6) || b.p - a.p || (a.k.key < b.k.key ? -1 : a.k.key > b.k.key ? 1 : 0))
  return ip.map(x => x.k)
}

/** Renders the cidr_table(5) of `datasets`. */
export function renderPostfixCidr (resolved: ResolvedLists, datasets: readonly ListDataset[]): Rendering {
  return renderLines(resolved, datasets, {
    holds: 'ips',
    otherKind: 'address or domain (goes in a postfix-access output)',
    header: headerLine('postfix-cidr', datasets),
    line: (k) => `${k.key} ${postfixAction(k)}`,
    order: mostSpecificFirst
  })
}
