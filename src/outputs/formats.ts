/**
 * The output formats by name, so config, runner and `spamsync render` share one table.
 */
import type { ListDataset } from '../constants.js'
import { renderPostfixAccess } from './postfix-access.js'
import { renderPostfixCidr } from './postfix-cidr.js'
import { renderSpamAssassin } from './spamassassin.js'
import { renderRspamdFrom, renderRspamdIp } from './rspamd.js'
import type { Rendering, ResolvedLists } from './lists.js'

/** Every output format. */
export const OUTPUT_FORMATS = ['postfix-access', 'postfix-cidr', 'spamassassin', 'rspamd-from', 'rspamd-ip'] as const

/** An output format's name. */
export type OutputFormat = typeof OUTPUT_FORMATS[number]

/** Formats whose file holds one verdict only: all its lists must allow, or all block. */
export const SINGLE_VERDICT: ReadonlySet<OutputFormat> = new Set(['rspamd-from', 'rspamd-ip'])

const RENDERERS: Record<OutputFormat, (resolved: ResolvedLists, datasets: readonly ListDataset[]) => Rendering> = {
  'postfix-access': renderPostfixAccess,
  'postfix-cidr': renderPostfixCidr,
  spamassassin: renderSpamAssassin,
  'rspamd-from': renderRspamdFrom,
  'rspamd-ip': renderRspamdIp
}

/** Renders one output. */
export function renderOutput (format: OutputFormat, resolved: ResolvedLists, datasets: readonly ListDataset[]): Rendering {
  return RENDERERS[format](resolved, datasets)
}
