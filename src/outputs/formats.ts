/**
 * The output formats by name, so config, runner and `spamsync render` share one table.
 */
import type { ListDataset } from '../constants.js'
import { postfixAccessFormat } from './postfix-access.js'
import { postfixCidrFormat } from './postfix-cidr.js'
import { spamAssassinFormat } from './spamassassin.js'
import { rspamdFromFormat, rspamdIpFormat } from './rspamd.js'
import { renderLines } from './table.js'
import type { LineFormat, Rendering, ResolvedLists } from './lists.js'

/** Every output format. */
export const OUTPUT_FORMATS = ['postfix-access', 'postfix-cidr', 'spamassassin', 'rspamd-from', 'rspamd-ip'] as const

/** An output format's name. */
export type OutputFormat = typeof OUTPUT_FORMATS[number]

/** Formats whose file holds one verdict only: all its lists must allow, or all block. */
export const SINGLE_VERDICT: ReadonlySet<OutputFormat> = new Set(['rspamd-from', 'rspamd-ip'])

const FORMATS: Record<OutputFormat, (datasets: readonly ListDataset[]) => LineFormat> = {
  'postfix-access': postfixAccessFormat,
  'postfix-cidr': postfixCidrFormat,
  spamassassin: spamAssassinFormat,
  'rspamd-from': rspamdFromFormat,
  'rspamd-ip': rspamdIpFormat
}

/** How an output of `datasets` in `format` renders its lines. */
export function lineFormat (format: OutputFormat, datasets: readonly ListDataset[]): LineFormat {
  return FORMATS[format](datasets)
}

/** Renders one output from scratch. */
export function renderOutput (format: OutputFormat, resolved: ResolvedLists, datasets: readonly ListDataset[]): Rendering {
  return renderLines(resolved, datasets, lineFormat(format, datasets))
}
