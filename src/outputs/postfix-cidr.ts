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
import { headerLine, type LineFormat, type ResolvedKey } from './lists.js'

/** Prefix length of an IP or CIDR key (32/128 for a plain address). */
function prefixOf (k: ResolvedKey): number {
  const slash = k.key.indexOf('/')
  if (slash >= 0) return Number(k.key.slice(slash + 1))
  return k.kind === 'ipv4' ? 32 : 128
}

/** IPv4 before IPv6 (the families never overlap), each most specific first (then by key). */
function mostSpecificFirst (k: ResolvedKey): number {
  return (k.kind === 'ipv6' || k.kind === 'cidr6' ? 256 : 0) - prefixOf(k)
}

/** The cidr_table(5) of `datasets`. */
export function postfixCidrFormat (datasets: readonly ListDataset[]): LineFormat {
  return {
    holds: 'ips',
    otherKind: 'address or domain (goes in a postfix-access output)',
    header: headerLine('postfix-cidr', datasets),
    line: (k) => `${k.key} ${postfixAction(k)}`,
    rank: mostSpecificFirst
  }
}
