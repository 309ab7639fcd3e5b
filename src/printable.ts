/**
 * Text from a peer (agent version, refusal reason, error message) made safe to show: a
 * terminal, a log viewer or a page must never obey it. Control characters (C0, DEL, C1), line
 * and paragraph separators and the bidi marks, embeddings, overrides and isolates that reorder
 * what a reader sees are replaced by a visible escape (`\x1b`, `\u202e`), so the text stays
 * readable and cannot clear a screen, move the cursor, fake a line or reverse a name.
 */

// One pattern, built from code points so the source holds none of the characters it matches.
/** The character class of what is escaped, as regular expression source (the status page uses it too). */
export const UNSAFE_CLASS = '[' + [
  [0x00, 0x1f], [0x7f, 0x9f], [0x061c, 0x061c], [0x200e, 0x200f], [0x2028, 0x202e], [0x2066, 0x2069]
].map(([a, b]) => `\\u${hex4(a)}-\\u${hex4(b)}`).join('') + ']'

const UNSAFE = new RegExp(UNSAFE_CLASS, 'gu')
const ANY_UNSAFE = new RegExp(UNSAFE_CLASS, 'u')

function hex4 (n: number): string {
  return n.toString(16).padStart(4, '0')
}

function escape (c: string): string {
  const n = c.codePointAt(0) ?? 0
  return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${hex4(n)}`
}

/** Where a text over its limit is cut, and what marks the cut. */
const CUT = '…'

/**
 * `text` with every unsafe character escaped visibly, cut to `maxChars` (default: no limit) so
 * a peer cannot fill a screen or a log line with one string.
 */
export function printable (text: string, maxChars = Infinity): string {
  const clean = text.replace(UNSAFE, escape)
  return clean.length <= maxChars ? clean : clean.slice(0, Math.max(0, maxChars - CUT.length)) + CUT
}

/** Whether `text` has nothing `printable` would escape. */
export function isPrintable (text: string): boolean {
  return !ANY_UNSAFE.test(text)
}

/** A JSON value with every string in it (keys too) made printable: for whatever an agent answered. */
export function printableDeep (value: unknown): unknown {
  if (typeof value === 'string') return printable(value)
  if (Array.isArray(value)) return value.map(printableDeep)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [printable(k), printableDeep(v)]))
  }
  return value
}

/** Longest peer-supplied name or version (agent version, master id) kept for status. */
export const PEER_TEXT_MAX = 200

/** Longest error message kept for status (one can quote a peer's whole refusal). */
export const ERROR_TEXT_MAX = 2000
