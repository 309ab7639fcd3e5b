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
import { headerLine, isIpKind, renderLines, type Rendering, type ResolvedLists } from './lists.js'

/** Renders the `from` (glob) map of `datasets`. */
export function renderRspamdFrom (resolved: ResolvedLists, datasets: readonly ListDataset[]): Rendering {
  return renderLines(resolved, datasets, headerLine('rspamd-from', datasets), (k) => {
    if (isIpKind(k.kind)) return { leftOut: 'IP address or CIDR block (goes in an rspamd-ip output)' }
    if (k.kind === 'address' && (k.key.includes('*') || k.key.includes('?'))) return { leftOut: 'address with "*" or "?", which a glob map reads as a wildcard' }
    if (k.key.includes('#')) return { leftOut: 'address with "#", which an rspamd map reads as a comment' }
    return k.key
  })
}

/** Renders the `ip` (radix) map of `datasets`. */
export function renderRspamdIp (resolved: ResolvedLists, datasets: readonly ListDataset[]): Rendering {
  return renderLines(resolved, datasets, headerLine('rspamd-ip', datasets), (k) => {
    if (!isIpKind(k.kind)) return { leftOut: 'address or domain (goes in an rspamd-from output)' }
    return k.key
  })
}
