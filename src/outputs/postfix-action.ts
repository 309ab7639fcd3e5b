/**
 * access(5) actions: a list entry's VALUE is used as the Postfix action only when it is one of
 * the actions below, written on one line in printable ASCII. Anything else (a note such as
 * `trusted`, a bare number, which Postfix would read as OK, or text with control or non-ASCII
 * characters) never reaches Postfix as an action: the list's own action is used instead.
 */

/** Actions that take no text. */
const BARE = new Set(['OK', 'DUNNO'])

/** Actions that may be followed by text (the reply or log text). */
const WITH_TEXT = new Set(['REJECT', 'DEFER', 'DEFER_IF_REJECT', 'DEFER_IF_PERMIT', 'DISCARD', 'HOLD', 'WARN', 'INFO'])

/** Whether `value` is an access(5) action spamsync passes to Postfix as written. */
export function isPostfixAction (value: string): boolean {
  const n = value.length
  if (n === 0) return false
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i)
    if (c < 0x20 || c > 0x7e) return false
  }
  const space = value.indexOf(' ')
  const word = (space < 0 ? value : value.slice(0, space)).toUpperCase()
  const text = space < 0 ? '' : value.slice(space + 1)
  if (BARE.has(word)) return space < 0
  if (WITH_TEXT.has(word)) return true
  // 4NN/5NN need text: a bare code is all-numerical, which Postfix treats as OK.
  return word.length === 3 && (word[0] === '4' || word[0] === '5') && isDigit(word, 1) && isDigit(word, 2) && text.trim() !== ''
}

function isDigit (s: string, i: number): boolean {
  const c = s.charCodeAt(i)
  return c >= 0x30 && c <= 0x39
}
