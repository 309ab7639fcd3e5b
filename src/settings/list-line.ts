/**
 * The grammar of one list-file line, shared by the parser (list-file.ts), the renderer
 * (list-render.ts) and the archive decoder (which checks a field from a peer with checkValue).
 *
 * One entry a line: `KEY [VALUE] [# COMMENT]`. KEY is the first whitespace-free token (see
 * list-key.ts); VALUE is the rest of the line up to the comment, trimmed, '' when there is none.
 * A line whose first non-blank character is `#` is a whole-line comment: it stays in its file
 * only. Later in a line, a `#` after whitespace starts the entry's comment (so `a#b` inside a key
 * or value is kept), which belongs to the entry and travels with it to every node.
 *
 * What syncs for an entry is its FIELD: VALUE and the comment as one string, `VALUE #COMMENT`
 * (one space between), `#COMMENT` without a value, or VALUE alone; trailing whitespace of the
 * comment is dropped. fieldValue() and fieldComment() take it apart; outputs read only the value.
 */
const HASH = 0x23
/** Carriage return: part of a CRLF line break, never of a field. */
export const CR = 0x0d
/** Byte-order mark: belongs to the file, read apart on its first line. */
export const BOM = 0xfeff

/** Whitespace that separates key, value and trailing comment (space, tab, LF, VT, FF, CR). */
export function isWs (c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d)
}

// Token boundaries of the last scanned line. One shared object so parsing allocates nothing per
// line for them; scan() is synchronous, so no caller can see another caller's values.
export const span = { keyStart: 0, keyEnd: 0, valueStart: 0, valueEnd: 0, commentStart: 0, commentEnd: 0 }

/**
 * Finds the key, value and comment of a line and stores their bounds in `span` (an absent value
 * or comment is an empty span).
 * Returns 'blank', 'comment' or 'entry'.
 */
export function scan (raw: string, first: boolean): 'blank' | 'comment' | 'entry' {
  const n = raw.length
  let i = first && raw.charCodeAt(0) === BOM ? 1 : 0
  while (i < n && isWs(raw.charCodeAt(i))) i++
  if (i === n) return 'blank'
  if (raw.charCodeAt(i) === HASH) return 'comment'
  span.keyStart = i
  while (i < n && !isWs(raw.charCodeAt(i))) i++
  span.keyEnd = i
  // A trailing comment starts at the first '#' that follows whitespace.
  let comment = n
  for (let p = raw.indexOf('#', i); p >= 0; p = raw.indexOf('#', p + 1)) {
    if (isWs(raw.charCodeAt(p - 1))) {
      comment = p
      break
    }
  }
  while (i < comment && isWs(raw.charCodeAt(i))) i++
  let end = comment
  while (end > i && isWs(raw.charCodeAt(end - 1))) end--
  span.valueStart = i
  span.valueEnd = end
  let commentEnd = n
  while (commentEnd > comment && isWs(raw.charCodeAt(commentEnd - 1))) commentEnd--
  span.commentStart = comment
  span.commentEnd = commentEnd
  return 'entry'
}

/** The field of the line `scan` read last: its value and comment as one string. */
export function scannedField (raw: string): string {
  const value = raw.slice(span.valueStart, span.valueEnd)
  if (span.commentStart === span.commentEnd) return value
  const comment = raw.slice(span.commentStart, span.commentEnd)
  return value === '' ? comment : `${value} ${comment}`
}

// Where the comment of a field starts: its first '#' that begins the field or follows
// whitespace (a value never holds one there, see checkValue); -1 when it has none.
function commentAt (field: string): number {
  for (let p = field.indexOf('#'); p >= 0; p = field.indexOf('#', p + 1)) {
    if (p === 0 || isWs(field.charCodeAt(p - 1))) return p
  }
  return -1
}

/** The value part of an entry's field (what the mail server reads): the field without its comment. */
export function fieldValue (field: string): string {
  const p = commentAt(field)
  return p < 0 ? field : field.slice(0, p === 0 ? 0 : p - 1)
}

/** The comment part of an entry's field, from its `#`; '' when it has none. */
export function fieldComment (field: string): string {
  const p = commentAt(field)
  return p < 0 ? '' : field.slice(p)
}

/** True when the field carries a comment (cheap for the common field without a `#`). */
export function hasComment (field: string): boolean {
  return field.includes('#') && commentAt(field) >= 0
}

/**
 * Why a field (value and comment, see the file's header) cannot be written to a list file so
 * that it reads back unchanged, or undefined when it can. Fields read from a list file always
 * can; check fields from elsewhere (an archive) with this.
 */
export function checkValue (field: string): string | undefined {
  const n = field.length
  if (n === 0) return undefined
  for (let i = 0; i < n; i++) {
    const c = field.charCodeAt(i)
    if (c === 0x0a || c === CR) return 'contains a line break'
  }
  if (isWs(field.charCodeAt(0)) || isWs(field.charCodeAt(n - 1))) return 'starts or ends with whitespace'
  const p = commentAt(field)
  // Read back, whitespace before the comment is trimmed and the field rebuilt with one space.
  if (p > 0 && (field.charCodeAt(p - 1) !== 0x20 || isWs(field.charCodeAt(p - 2)))) return 'needs exactly one space before its comment'
  return undefined
}
