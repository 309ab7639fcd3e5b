/**
 * Bayes tokens column-wise: a million tokens are a few typed arrays instead of a million objects
 * and strings. Tables are immutable values: a result may share arrays with an argument.
 */

/** Largest count and atime: SpamAssassin stores them as 32-bit unsigned integers. */
export const MAX_COUNT = 0xffffffff

/**
 * Tokens with their counts, column-wise: row i is token `keys[i]` (its 10 hex digits read as a
 * 40-bit integer) with `spam[i]`, `ham[i]` and `atime[i]` (seconds since the epoch, sa-learn's
 * last access). Keys are strictly ascending; all four arrays have one length.
 */
export interface TokenTable {
  readonly keys: Float64Array
  readonly spam: Uint32Array
  readonly ham: Uint32Array
  readonly atime: Uint32Array
}

/** One token's counts: messages learned as spam and as ham that contained it, and last access. */
export interface TokenCounts {
  spam: number
  ham: number
  atime: number
}

const TWO_32 = 2 ** 32
const HEX = '0123456789abcdef'

/** A table of n rows, all 0. */
export function allocTokens (n: number): TokenTable {
  return { keys: new Float64Array(n), spam: new Uint32Array(n), ham: new Uint32Array(n), atime: new Uint32Array(n) }
}

/**
 * The first n rows of a table that was allocated larger. Views while most of the room is used;
 * a copy when much of it is not, so a small result does not hold a large buffer alive.
 */
export function trimTokens (t: TokenTable, n: number): TokenTable {
  if (n === t.keys.length) return t
  const copy = n * 4 < t.keys.length * 3
  const cut = <A extends Float64Array | Uint32Array>(a: A): A => (copy ? a.slice(0, n) : a.subarray(0, n)) as A
  return { keys: cut(t.keys), spam: cut(t.spam), ham: cut(t.ham), atime: cut(t.atime) }
}


/** The 40-bit value of a token of 10 lower-case hex digits, or -1 for any other string. */
export function tokenValue (token: string): number {
  if (token.length !== 10) return -1
  let hi = 0
  let lo = 0
  for (let i = 0; i < 10; i++) {
    const c = token.charCodeAt(i)
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1
    if (d < 0) return -1
    if (i < 2) hi = hi * 16 + d
    else lo = lo * 16 + d
  }
  return hi * TWO_32 + lo
}

/** The 10 lower-case hex digits of a 40-bit token value. */
export function tokenHex (v: number): string {
  let s = ''
  for (let i = 9; i >= 0; i--) s += HEX[Math.floor(v / 16 ** i) % 16]
  return s
}

function isCount (n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= MAX_COUNT
}

/**
 * A table from token strings and counts, in any order (for tests, tools and small inputs; the
 * file and wire formats build tables directly). Throws RangeError for a token that is not 10
 * lower-case hex digits, a token given twice, or a count or atime outside 0..MAX_COUNT.
 */
export function tokensOf (entries: Iterable<readonly [string, TokenCounts]>): TokenTable {
  const rows = [...entries].map(([token, c]) => {
    const v = tokenValue(token)
    if (v < 0) throw new RangeError(`token ${JSON.stringify(token)} is not 10 lower-case hex digits`)
    if (!isCount(c.spam) || !isCount(c.ham) || !isCount(c.atime)) throw new RangeError(`token ${token}: counts ${JSON.stringify(c)} are not integers in 0..${MAX_COUNT}`)
    return { v, c }
  }).sort((a, b) => a.v - b.v)
  const t = allocTokens(rows.length)
  rows.forEach(({ v, c }, i) => {
    if (i > 0 && rows[i - 1].v === v) throw new RangeError(`token ${tokenHex(v)} is given twice`)
    t.keys[i] = v
    t.spam[i] = c.spam
    t.ham[i] = c.ham
    t.atime[i] = c.atime
  })
  return t
}

/** The rows of a table as token strings and counts, in token order. */
export function tokenEntries (t: TokenTable): Array<[string, TokenCounts]> {
  return Array.from(t.keys, (v, i) => [tokenHex(v), { spam: t.spam[i], ham: t.ham[i], atime: t.atime[i] }])
}

/** Row of the token value v in t, or -1 (binary search). */
export function findToken (t: TokenTable, v: number): number {
  let lo = 0
  let hi = t.keys.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const k = t.keys[mid]
    if (k === v) return mid
    if (k < v) lo = mid + 1
    else hi = mid - 1
  }
  return -1
}

/**
 * Indices 0..n-1 ordered by keys[0..n-1] (40-bit integers), stable: an LSD radix sort, four
 * passes of 10 bits over the two 20-bit halves. Several times faster than a comparison sort.
 */
export function sortIndices (keys: Float64Array, n: number): Uint32Array {
  const hi = new Uint32Array(n)
  const lo = new Uint32Array(n)
  for (let i = 0; i < n; i++) {
    const h = Math.floor(keys[i] / 0x100000)
    hi[i] = h
    lo[i] = keys[i] - h * 0x100000
  }
  let order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  let next = new Uint32Array(n)
  const count = new Uint32Array(1024)
  for (let pass = 0; pass < 4; pass++) {
    const part = pass < 2 ? lo : hi
    const shift = pass % 2 === 0 ? 0 : 10
    count.fill(0)
    for (let i = 0; i < n; i++) count[(part[order[i]] >>> shift) & 1023]++
    for (let b = 0, sum = 0; b < 1024; b++) {
      const c = count[b]
      count[b] = sum
      sum += c
    }
    for (let i = 0; i < n; i++) {
      const j = order[i]
      next[count[(part[j] >>> shift) & 1023]++] = j
    }
    const swap = order
    order = next
    next = swap
  }
  return order
}
