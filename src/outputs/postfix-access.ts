/**
 * `postfix-access`: an access(5) table of the sender addresses and domains, for
 * `check_sender_access hash:PATH` (after `postmap`).
 *
 * - address `user@example.com` -> `user@example.com ACTION`
 * - domain `example.com` -> `example.com ACTION`
 * - wildcard `*.example.com` -> `.example.com ACTION`
 *
 * `.example.com` matches the subdomains of example.com only when `smtpd_access_maps` is NOT in
 * `parent_domain_matches_subdomains`; Postfix's default has it there, and then `example.com`
 * also matches every subdomain while `.example.com` lines are never looked up. Set
 * `parent_domain_matches_subdomains` without `smtpd_access_maps` (README) so each key means
 * exactly what the list says.
 *
 * ACTION: the entry's VALUE when it is an access(5) action (postfix-action.ts), else `OK` for
 * whitelist and autowhitelist entries and `REJECT` for blacklist entries. IP addresses and
 * CIDR blocks are left out: they go in a `postfix-cidr` output.
 */
import type { ListDataset } from '../constants.js'
import { isPostfixAction } from './postfix-action.js'
import { headerLine, VERDICT, type LineFormat, type ResolvedKey } from './lists.js'

/** The Postfix action of a resolved key. */
export function postfixAction (k: ResolvedKey): string {
  if (isPostfixAction(k.value)) return k.value
  return VERDICT[k.list] === 'allow' ? 'OK' : 'REJECT'
}

/** The access(5) table of `datasets`. */
export function postfixAccessFormat (datasets: readonly ListDataset[]): LineFormat {
  return {
    holds: 'senders',
    otherKind: 'IP address or CIDR block (goes in a postfix-cidr output)',
    header: headerLine('postfix-access', datasets),
    line: (k) => `${k.kind === 'wildcard' ? k.key.slice(1) : k.key} ${postfixAction(k)}`
  }
}
