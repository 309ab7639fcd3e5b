/**
 * List keys: what a list line is about (an e-mail address, a domain, a wildcard domain, an IP
 * address or a CIDR block), reduced to one canonical spelling so that two spellings of one key
 * are one entry and every replica agrees on it.
 *
 * Canonical forms:
 * - address: `local@domain`, both lower-case, domain as below;
 * - domain: lower-case ASCII (IDN as punycode), no trailing dot; `@example.com` and
 *   `*@example.com` mean the whole domain and are `example.com`;
 * - wildcard domain: `*.` + domain;
 * - IPv4: dotted decimal; IPv6: RFC 5952 (lower-case, longest zero run as `::`, IPv4-mapped
 *   addresses as `::ffff:a.b.c.d`);
 * - CIDR: network address (host bits cleared) + `/prefix`; a full-length prefix (`/32`, `/128`)
 *   is the plain address.
 *
 * Whole lists are normalised on every scan, so the checks are hand-written loops over char codes:
 * no regex, and no allocation for a key that is already canonical.
 */
import { domainToASCII } from 'node:url'
import { InvalidKeyError } from '../errors.js'


/** Why a key is rejected when no more precise reason applies. */
export const NOT_A_KEY = 'not an e-mail address, domain, wildcard domain, IP address or CIDR block'

const MAX_DOMAIN = 253
const MAX_LABEL = 63
const MAX_LOCAL = 64
// RFC 5321 path limit: 256 minus the angle brackets.
const MAX_ADDRESS = 254

const DOT = 0x2e
const HYPHEN = 0x2d
const UNDERSCORE = 0x5f
const AT = 0x40
const COLON = 0x3a
const SLASH = 0x2f
const STAR = 0x2a
const HASH = 0x23
const ZERO = 0x30
const NINE = 0x39
const UPPER_A = 0x41
const UPPER_Z = 0x5a
const LOWER_A = 0x61
const LOWER_Z = 0x7a

/** Why a string is not a list key (the result of checkKey for an invalid key). */
export class KeyProblem {
  constructor (
    /** Operator-readable reason, e.g. `domain label longer than 63 characters`. */
    readonly reason: string
  ) {}
}

// Shared instances: the common failures allocate nothing.
const EMPTY_LABEL = new KeyProblem('empty label in domain (leading dot or "..")')
const LONG_LABEL = new KeyProblem(`domain label longer than ${MAX_LABEL} characters`)
const HYPHEN_LABEL = new KeyProblem('domain label starts or ends with "-"')
const ONE_LABEL = new KeyProblem('a domain needs at least two labels (e.g. example.com)')
const LONG_DOMAIN = new KeyProblem(`domain longer than ${MAX_DOMAIN} characters`)
const NUMERIC_TLD = new KeyProblem('top-level domain label is all digits')
const BAD_IDN = new KeyProblem('not a valid internationalised domain name')
const BAD_V4 = new KeyProblem('not an IPv4 address (four numbers 0-255 separated by dots)')
const V4_LEADING_ZERO = new KeyProblem('IPv4 number with a leading zero (ambiguous: octal or decimal?)')
const V4_RANGE = new KeyProblem('IPv4 number out of range (0-255)')
const BAD_V6 = new KeyProblem('not an IPv6 address')

/**
 * The canonical form of a key, or a KeyProblem saying why it is not one; never throws. A string
 * result allocates nothing when the key is already canonical, which matters for whole lists.
 */
export function checkKey (raw: string): string | KeyProblem {
  return normalise(raw)
}

/** The canonical form of a list key; throws InvalidKeyError saying why it is not one. */
export function normaliseKey (raw: string): string {
  const r = normalise(raw)
  if (typeof r === 'string') return r
  throw new InvalidKeyError(`invalid key ${JSON.stringify(raw)}: ${r.reason}`)
}

function normalise (s: string): string | KeyProblem {
  const n = s.length
  if (n === 0) return new KeyProblem('empty key')
  // Legal in a local part, but a list file line starting with '#' is a comment.
  if (s.charCodeAt(0) === HASH) return new KeyProblem('starts with "#" (a list file reads it as a comment)')
  // One pass to classify; the kind's own loop then validates.
  let at = -1
  let colon = false
  let slash = -1
  let v4chars = true
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c <= 0x20 || c === 0x7f) {
      return new KeyProblem(c === 0x20 || c === 0x09 ? 'contains whitespace' : 'contains a control character')
    }
    if (c === AT) at = i
    else if (c === COLON) colon = true
    else if (c === SLASH) slash = i
    else if (c !== DOT && (c < ZERO || c > NINE)) v4chars = false
  }
  if (at >= 0) return address(s, at)
  if (colon) return ipv6(s, slash)
  const c0 = s.charCodeAt(0)
  if (c0 === STAR) return wildcard(s)
  if (v4chars && c0 >= ZERO && c0 <= NINE) return ipv4(s, slash)
  return domain(s, false)
}

/** `local@domain`; an empty or `*` local part means the whole domain. `at` is the last '@'. */
function address (s: string, at: number): string | KeyProblem {
  const dom = s.slice(at + 1)
  if (at === 0 || (at === 1 && s.charCodeAt(0) === STAR)) {
    if (dom.charCodeAt(0) === STAR) return wildcard(dom)
    return domain(dom, false)
  }
  if (at > MAX_LOCAL) return new KeyProblem(`local part longer than ${MAX_LOCAL} characters`)
  let upper = false
  for (let i = 0; i < at; i++) {
    const c = s.charCodeAt(i)
    if (c >= UPPER_A && c <= UPPER_Z) upper = true
    else if (c >= 0x80) {
      if (isUnicodeSpace(c)) return new KeyProblem('contains whitespace')
      upper = true // non-ASCII (SMTPUTF8): let toLowerCase decide
    }
    else if (isLocalSpecial(c)) {
      return new KeyProblem(c === AT ? 'more than one "@"' : `bad character "${s[i]}" in local part of address`)
    }
  }
  if (dom.length === 0) return new KeyProblem('address without a domain')
  if (dom.charCodeAt(0) === STAR) return new KeyProblem('the domain of an address cannot be a wildcard')
  const d = domain(dom, false)
  if (d instanceof KeyProblem) return new KeyProblem(`domain of address: ${d.reason}`)
  if (at + 1 + d.length > MAX_ADDRESS) return new KeyProblem(`address longer than ${MAX_ADDRESS} characters`)
  const local = s.slice(0, at)
  if (!upper && d === dom) return s
  return (upper ? local.toLowerCase() : local) + '@' + d
}

// RFC 5322 specials that cannot appear unquoted; quoted local parts are not supported.
function isLocalSpecial (c: number): boolean {
  return c === 0x22 || c === 0x28 || c === 0x29 || c === 0x2c || c === COLON || c === 0x3b ||
    c === 0x3c || c === 0x3e || c === AT || c === 0x5b || c === 0x5c || c === 0x5d
}

// C1 controls and the Unicode spaces; a domain gets these rejected by IDNA instead.
function isUnicodeSpace (c: number): boolean {
  return c <= 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200b) || c === 0x2028 || c === 0x2029 ||
    c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
}

/** `*.domain`. A single-label base (`*.xyz`) is allowed: blocking a whole spam TLD is common. */
function wildcard (s: string): string | KeyProblem {
  if (s.length < 3 || s.charCodeAt(1) !== DOT) return new KeyProblem('a wildcard must be "*." followed by a domain')
  const rest = s.slice(2)
  const d = domain(rest, true)
  if (d instanceof KeyProblem) return d
  return d === rest ? s : '*.' + d
}

/**
 * Validates and lower-cases a domain; strips one trailing dot (absolute form). Non-ASCII input
 * goes through IDNA (punycode) and the result is validated like any ASCII domain.
 */
function domain (s: string, singleLabel: boolean): string | KeyProblem {
  let end = s.length
  if (end > 0 && s.charCodeAt(end - 1) === DOT) end--
  if (end === 0) return new KeyProblem('empty domain')
  let upper = false
  let labels = 0
  let start = 0
  let digits = true
  for (let i = 0; i <= end; i++) {
    const c = i === end ? DOT : s.charCodeAt(i)
    if (c === DOT) {
      const len = i - start
      if (len === 0) return EMPTY_LABEL
      if (len > MAX_LABEL) return LONG_LABEL
      if (s.charCodeAt(start) === HYPHEN || s.charCodeAt(i - 1) === HYPHEN) return HYPHEN_LABEL
      labels++
      start = i + 1
      if (i !== end) digits = true
    } else if (c >= LOWER_A && c <= LOWER_Z) {
      digits = false
    } else if (c >= ZERO && c <= NINE) {
      // keep `digits` as is
    } else if (c === HYPHEN || c === UNDERSCORE) {
      digits = false
    } else if (c >= UPPER_A && c <= UPPER_Z) {
      upper = true
      digits = false
    } else if (c >= 0x80) {
      return idn(s, singleLabel)
    } else {
      return new KeyProblem(`${NOT_A_KEY}: bad character "${s[i]}"`)
    }
  }
  if (labels < 2 && !singleLabel) return ONE_LABEL
  if (end > MAX_DOMAIN) return LONG_DOMAIN
  if (digits) return NUMERIC_TLD
  const d = end === s.length ? s : s.slice(0, end)
  return upper ? d.toLowerCase() : d
}

function idn (s: string, singleLabel: boolean): string | KeyProblem {
  const ascii = domainToASCII(s)
  if (ascii === '') return BAD_IDN
  for (let i = 0; i < ascii.length; i++) if (ascii.charCodeAt(i) >= 0x80) return BAD_IDN
  return domain(ascii, singleLabel)
}

/** Parses `s[start, end)` as dotted-quad IPv4 into an unsigned 32-bit number. */
function parseV4 (s: string, start: number, end: number): number | KeyProblem {
  let value = 0
  let octets = 0
  let i = start
  while (true) {
    const first = i
    let octet = 0
    while (i < end) {
      const c = s.charCodeAt(i)
      if (c < ZERO || c > NINE) break
      octet = octet * 10 + (c - ZERO)
      i++
    }
    const len = i - first
    if (len === 0) return BAD_V4
    if (len > 1 && s.charCodeAt(first) === ZERO) return V4_LEADING_ZERO
    if (len > 3 || octet > 255) return V4_RANGE
    value = value * 256 + octet
    octets++
    if (i === end) break
    if (s.charCodeAt(i) !== DOT || octets === 4) return BAD_V4
    i++
  }
  return octets === 4 ? value : BAD_V4
}

/** Parses a prefix length: decimal, no leading zero, 0..max. */
function parsePrefix (s: string, start: number, max: number): number | KeyProblem {
  const len = s.length - start
  let p = len === 0 || len > 3 || (len > 1 && s.charCodeAt(start) === ZERO) ? -1 : 0
  for (let i = start; i < s.length && p >= 0; i++) {
    const c = s.charCodeAt(i)
    p = c < ZERO || c > NINE ? -1 : p * 10 + (c - ZERO)
  }
  return p >= 0 && p <= max ? p : new KeyProblem(`prefix length must be a number 0-${max}`)
}

function formatV4 (v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`
}

function ipv4 (s: string, slash: number): string | KeyProblem {
  const end = slash < 0 ? s.length : slash
  const v = parseV4(s, 0, end)
  if (v instanceof KeyProblem) return v
  // Digits without leading zeros are already canonical.
  if (slash < 0) return s
  const p = parsePrefix(s, slash + 1, 32)
  if (p instanceof KeyProblem) return p
  if (p === 32) return s.slice(0, slash)
  const net = p === 0 ? 0 : (v & (0xffffffff << (32 - p))) >>> 0
  return `${formatV4(net)}/${p}`
}

function hexValue (c: number): number {
  if (c >= ZERO && c <= NINE) return c - ZERO
  if (c >= LOWER_A && c <= 0x66) return c - LOWER_A + 10
  if (c >= UPPER_A && c <= 0x46) return c - UPPER_A + 10
  return -1
}

/** Parses `s[0, end)` as an IPv6 address (with an optional dotted IPv4 tail) into 8 groups. */
function parseV6 (s: string, end: number): number[] | KeyProblem {
  const groups: number[] = []
  let gap = -1
  let i = 0
  if (end >= 2 && s.charCodeAt(0) === COLON && s.charCodeAt(1) === COLON) {
    gap = 0
    i = 2
  }
  while (i < end) {
    const first = i
    let v = 0
    let h: number
    while (i < end && (h = hexValue(s.charCodeAt(i))) >= 0) {
      v = v * 16 + h
      i++
    }
    if (i < end && s.charCodeAt(i) === DOT) {
      // Dotted IPv4 in the last 32 bits (e.g. ::ffff:192.0.2.1).
      const v4 = parseV4(s, first, end)
      if (v4 instanceof KeyProblem) return new KeyProblem(`IPv6 address with a bad IPv4 part: ${v4.reason}`)
      groups.push(v4 >>> 16, v4 & 0xffff)
      break
    }
    const len = i - first
    if (len === 0 || len > 4) return i < end && s.charCodeAt(i) !== COLON ? new KeyProblem(`${NOT_A_KEY}: bad character "${s[i]}"`) : BAD_V6
    groups.push(v)
    if (i === end) break
    if (s.charCodeAt(i) !== COLON) return new KeyProblem(`${NOT_A_KEY}: bad character "${s[i]}"`)
    if (i + 1 < end && s.charCodeAt(i + 1) === COLON) {
      if (gap >= 0) return new KeyProblem('IPv6 address with more than one "::"')
      gap = groups.length
      i += 2
    } else {
      i++
      if (i === end) return BAD_V6
    }
  }
  if (gap < 0) return groups.length === 8 ? groups : new KeyProblem('IPv6 address needs 8 groups or "::"')
  if (groups.length > 7) return new KeyProblem('IPv6 "::" must stand for at least one group')
  groups.splice(gap, 0, ...new Array<number>(8 - groups.length).fill(0))
  return groups
}

/** RFC 5952 text form; IPv4-mapped addresses (::ffff:0:0/96) in mixed notation. */
function formatV6 (g: number[]): string {
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return '::ffff:' + formatV4(g[6] * 65536 + g[7])
  }
  // Longest run of two or more zero groups; the first one on a tie.
  let bestStart = -1
  let bestLen = 1
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLen) { bestStart = i; bestLen = j - i }
    i = j
  }
  if (bestStart < 0) return g.map(x => x.toString(16)).join(':')
  const head = g.slice(0, bestStart).map(x => x.toString(16)).join(':')
  const tail = g.slice(bestStart + bestLen).map(x => x.toString(16)).join(':')
  return `${head}::${tail}`
}

function ipv6 (s: string, slash: number): string | KeyProblem {
  const end = slash < 0 ? s.length : slash
  const g = parseV6(s, end)
  if (g instanceof KeyProblem) return g
  if (slash < 0) return formatV6(g)
  const p = parsePrefix(s, slash + 1, 128)
  if (p instanceof KeyProblem) return p
  if (p === 128) return formatV6(g)
  for (let k = 0; k < 8; k++) {
    const keep = p - k * 16
    if (keep <= 0) g[k] = 0
    else if (keep < 16) g[k] &= (0xffff << (16 - keep)) & 0xffff
  }
  return `${formatV6(g)}/${p}`
}
