/**
 * rspamd multimap map files, one entry a line, no values (the list decides; a map holds one
 * verdict, so an output mixing allow and block lists is refused in the config).
 *
 * `rspamd-from`: for a `type = "from"` multimap with `glob = true` (README). Without a filter
 * rspamd matches the sender's address, then its domain, so
 * - address `user@example.com` -> `user@example.com`
 * - domain `example.com` -> `example.com`
 * - wildcard `*.example.com` -> `*.example.com` (a glob: the subdomains)
 * An address holding a glob character (`*`, `?`) or `#` (a comment in a map) is left out.
 *
 * `rspamd-ip`: for a `type = "ip"` (radix) multimap: addresses and CIDR blocks as they are.
 */
import type { ListDataset } from '../constants.js'
import { headerLine, LeftOutReason, type LineFormat } from './lists.js'

const GLOB = new LeftOutReason('address with "*" or "?", which a glob map reads as a wildcard')
const HASH = new LeftOutReason('address with "#", which an rspamd map reads as a comment')

/** The `from` (glob) map of `datasets`. */
export function rspamdFromFormat (datasets: readonly ListDataset[]): LineFormat {
  return {
    holds: 'senders',
    otherKind: 'IP address or CIDR block (goes in an rspamd-ip output)',
    header: headerLine('rspamd-from', datasets),
    line: (k) => {
      if (k.kind !== 'address') return k.key
      if (k.key.includes('*') || k.key.includes('?')) return GLOB
      return k.key.includes('#') ? HASH : k.key
    }
  }
}

/** The `ip` (radix) map of `datasets`. */
export function rspamdIpFormat (datasets: readonly ListDataset[]): LineFormat {
  return {
    holds: 'ips',
    otherKind: 'address or domain (goes in an rspamd-from output)',
    header: headerLine('rspamd-ip', datasets),
    line: (k) => k.key
  }
}
