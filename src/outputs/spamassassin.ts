/**
 * `spamassassin`: a .cf file for the site config folder (or an `include` from local.cf), with
 * the SpamAssassin 4 names: `welcomelist_from` for whitelist and autowhitelist entries (the
 * USER_IN_WELCOMELIST rule), `blocklist_from` for blacklist entries (USER_IN_BLOCKLIST).
 *
 * - address `user@example.com` -> `user@example.com`
 * - domain `example.com` -> `*@example.com`
 * - wildcard `*.example.com` -> `*@*.example.com`
 *
 * SpamAssassin reads `*` and `?` in these patterns as wildcards, with no escape, so an address
 * holding one is left out (it would match other senders). `#` starts a comment in a .cf line
 * and is written `\#`. IP addresses and CIDR blocks are left out (these rules match senders).
 * VALUEs are not used: the list decides.
 */
import type { ListDataset } from '../constants.js'
import { headerLine, LeftOutReason, VERDICT, type LineFormat } from './lists.js'

const GLOB = new LeftOutReason('address with "*" or "?", which SpamAssassin reads as a wildcard')

/** The .cf file of `datasets`. */
export function spamAssassinFormat (datasets: readonly ListDataset[]): LineFormat {
  return {
    holds: 'senders',
    otherKind: 'IP address or CIDR block (welcomelist_from/blocklist_from match senders)',
    header: headerLine('spamassassin', datasets),
    line: (k) => {
      let pattern: string
      if (k.kind !== 'address') pattern = '*@' + k.key
      else if (k.key.includes('*') || k.key.includes('?')) return GLOB
      else pattern = k.key.includes('#') ? k.key.replaceAll('#', '\\#') : k.key
      return `${VERDICT[k.list] === 'allow' ? 'welcomelist_from' : 'blocklist_from'} ${pattern}`
    }
  }
}
