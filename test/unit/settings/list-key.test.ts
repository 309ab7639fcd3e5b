import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { InvalidKeyError } from '../../../src/errors.js'
import { checkKey, KeyProblem, normaliseKey } from '../../../src/settings/list-key.js'

/** Asserts each raw spelling normalises to `canonical`. */
function normalisesTo (canonical: string, ...spellings: string[]): void {
  for (const raw of spellings) assert.equal(normaliseKey(raw), canonical, `normaliseKey(${JSON.stringify(raw)})`)
}

/** Asserts `raw` is rejected with InvalidKeyError whose message matches `reason`. */
function rejects (raw: string, reason: RegExp): void {
  assert.throws(() => normaliseKey(raw), (err: unknown) => {
    assert.ok(err instanceof InvalidKeyError, `normaliseKey(${JSON.stringify(raw)}) threw ${String(err)}`)
    assert.match(err.message, reason, `normaliseKey(${JSON.stringify(raw)})`)
    return true
  })
}

describe('e-mail address', () => {
  test('is lower-cased, local part and domain', () => {
    normalisesTo('local@example.com', 'Local@Example.COM', 'local@example.com')
  })

  test('loses the trailing dot of its domain', () => {
    normalisesTo('local@example.com', 'Local@Example.COM.')
  })

  test('gets an internationalised domain as punycode', () => {
    normalisesTo('joe@xn--bcher-kva.de', 'joe@Bücher.de', 'joe@xn--bcher-kva.de')
  })

  test('keeps atext characters such as + and = in the local part', () => {
    normalisesTo("a.b+tag=x'y@example.com", "a.b+tag=x'y@example.com")
  })

  test('may have a non-ASCII local part, lower-cased', () => {
    normalisesTo('jösé@example.com', 'JÖSÉ@example.com')
  })

  test('is rejected with Unicode whitespace in the local part', () => {
    rejects('jo\u00a0e@example.com', /contains whitespace/)
    rejects('jo\u3000e@example.com', /contains whitespace/)
  })

  test('is rejected with more than one @', () => {
    rejects('a@b@example.com', /more than one "@"/)
  })

  test('is rejected with a local part over 64 characters', () => {
    rejects(`${'a'.repeat(65)}@example.com`, /local part longer than 64/)
  })

  test('with a 64-character local part is accepted', () => {
    normalisesTo(`${'a'.repeat(64)}@example.com`, `${'a'.repeat(64)}@example.com`)
  })

  test('is rejected when it starts with #, which a list file reads as a comment', () => {
    rejects('#joe@example.com', /starts with "#"/)
  })

  test('may contain # after its first character', () => {
    normalisesTo('jo#e@example.com', 'jo#e@example.com')
  })

  test('is rejected with a special character in the local part', () => {
    rejects('a<b@example.com', /bad character "<" in local part/)
    rejects('"quoted"@example.com', /bad character/)
  })

  test('is rejected with a bad domain, naming the domain', () => {
    rejects('joe@example', /domain of address: a domain needs at least two labels/)
    rejects('joe@', /address without a domain/)
    rejects('joe@*.example.com', /cannot be a wildcard/)
  })
})

describe('domain', () => {
  test('is lower-cased and loses its trailing dot', () => {
    normalisesTo('example.com', 'example.com', 'Example.COM.', 'EXAMPLE.com')
  })

  test('written as @domain or *@domain means the whole domain', () => {
    normalisesTo('example.com', '@example.com', '*@example.com', '*@Example.COM.')
  })

  test('may contain digits, hyphens and underscores', () => {
    normalisesTo('0-180.com', '0-180.com')
    normalisesTo('_dmarc.mail-1.example.com', '_dmarc.mail-1.example.com')
  })

  test('is converted to punycode when internationalised', () => {
    normalisesTo('xn--bcher-kva.de', 'bücher.de', 'BÜCHER.DE', 'xn--bcher-kva.de')
  })

  test('is rejected with Unicode whitespace', () => {
    rejects('exa\u00a0mple.com', /internationalised domain name/)
  })

  test('needs at least two labels', () => {
    rejects('localhost', /at least two labels/)
  })

  test('is rejected with an empty label', () => {
    rejects('a..example.com', /empty label/)
    rejects('.example.com', /empty label/)
  })

  test('is rejected with a label starting or ending with a hyphen', () => {
    rejects('-a.example.com', /starts or ends with "-"/)
    rejects('a-.example.com', /starts or ends with "-"/)
  })

  test('accepts 63-character labels and rejects 64', () => {
    normalisesTo(`${'a'.repeat(63)}.com`, `${'a'.repeat(63)}.com`)
    rejects(`${'a'.repeat(64)}.com`, /label longer than 63/)
  })

  test('accepts 253 characters and rejects 254', () => {
    const label = 'a'.repeat(61)
    const d253 = [label, label, label, label, 'b'.repeat(5)].join('.')
    assert.equal(d253.length, 253)
    normalisesTo(d253, d253, d253 + '.')
    rejects('c' + d253, /longer than 253/)
  })

  test('is rejected with an all-digit top-level label', () => {
    rejects('example.123', /top-level domain label is all digits/)
  })

  test('is rejected with a bad character, with the generic reason', () => {
    rejects('exa!mple.com', /not an e-mail address, domain, wildcard domain, IP address or CIDR block: bad character "!"/)
    rejects('example.com/path', /bad character "\/"/)
  })
})

describe('wildcard domain', () => {
  test('is lower-cased and loses its trailing dot', () => {
    normalisesTo('*.example.com', '*.Example.com', '*.example.com.', '*@*.example.com', '@*.EXAMPLE.com')
  })

  test('may cover a whole top-level domain', () => {
    normalisesTo('*.xyz', '*.XYZ')
  })

  test('is rejected without a dot after the star', () => {
    rejects('*example.com', /"\*\." followed by a domain/)
    rejects('*', /"\*\." followed by a domain/)
  })

  test('is rejected with a star anywhere else', () => {
    rejects('*.*.example.com', /bad character "\*"/)
    rejects('mail.*.example.com', /bad character "\*"/)
  })
})

describe('IPv4 address', () => {
  test('in dotted decimal is kept as it is', () => {
    normalisesTo('192.0.2.1', '192.0.2.1')
    normalisesTo('0.0.0.0', '0.0.0.0')
    normalisesTo('255.255.255.255', '255.255.255.255')
  })

  test('is rejected with a leading zero', () => {
    rejects('01.2.3.4', /leading zero/)
    rejects('1.2.3.010', /leading zero/)
  })

  test('is rejected with an octet out of range', () => {
    rejects('256.1.1.1', /out of range/)
    rejects('1.1.1.1000', /out of range/)
  })

  test('is rejected with other than four octets', () => {
    rejects('1.2.3', /not an IPv4 address/)
    rejects('1.2.3.4.5', /not an IPv4 address/)
    rejects('1.2.3.4.', /not an IPv4 address/)
    rejects('1..3.4', /not an IPv4 address/)
  })
})

describe('IPv4 CIDR block', () => {
  test('has its host bits cleared', () => {
    normalisesTo('10.0.0.0/8', '10.1.2.3/8', '10.0.0.0/8')
    normalisesTo('192.0.2.128/25', '192.0.2.200/25')
    normalisesTo('0.0.0.0/0', '1.2.3.4/0')
    normalisesTo('255.255.255.254/31', '255.255.255.255/31')
  })

  test('of /32 is the plain address', () => {
    normalisesTo('192.0.2.1', '192.0.2.1/32')
  })

  test('is rejected with a prefix out of range or malformed', () => {
    rejects('10.0.0.0/33', /prefix length must be a number 0-32/)
    rejects('10.0.0.0/', /prefix length/)
    rejects('10.0.0.0/08', /prefix length/)
    rejects('10.0.0.0/8/8', /not an IPv4 address/)
  })
})

describe('IPv6 address', () => {
  test('is written in RFC 5952 form: lower-case, no leading zeros', () => {
    normalisesTo('2001:db8::1', '2001:DB8::1', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8:0:0:0:0:0:1')
  })

  test('compresses the longest zero run, the first one on a tie', () => {
    normalisesTo('2001:db8::1:0:0:1', '2001:db8:0:0:1:0:0:1')
    normalisesTo('2001:0:0:1::1', '2001:0:0:1:0:0:0:1')
  })

  test('does not compress a single zero group', () => {
    normalisesTo('2001:db8:0:1:1:1:1:1', '2001:db8::1:1:1:1:1')
  })

  test('handles the all-zero, loopback and trailing-zero forms', () => {
    normalisesTo('::', '::', '0:0:0:0:0:0:0:0')
    normalisesTo('::1', '::1', '0:0:0:0:0:0:0:1')
    normalisesTo('1::', '1::', '1:0:0:0:0:0:0:0')
    normalisesTo('1:2:3:4:5:6:7:0', '1:2:3:4:5:6:7::')
  })

  test('writes an IPv4-mapped address in mixed notation', () => {
    normalisesTo('::ffff:192.0.2.1', '::ffff:192.0.2.1', '::FFFF:c000:0201', '0:0:0:0:0:ffff:192.0.2.1')
  })

  test('writes other embedded IPv4 forms in hex', () => {
    normalisesTo('64:ff9b::c000:201', '64:ff9b::192.0.2.1')
  })

  test('is rejected when malformed', () => {
    rejects('1:2:3:4:5:6:7:8:9', /8 groups/)
    rejects('1:2:3', /8 groups/)
    rejects('1::2::3', /more than one "::"/)
    rejects('1:::2', /not an IPv6 address/)
    rejects(':1:2:3:4:5:6:7', /not an IPv6 address/)
    rejects('1:2:3:4:5:6:7:', /not an IPv6 address/)
    rejects('12345::', /not an IPv6 address/)
    rejects('1:2:3:4:5:6:7:8::', /at least one group/)
    rejects('fe80::1%eth0', /bad character "%"/)
    rejects('[::1]', /bad character/)
    rejects('::ffff:01.2.3.4', /bad IPv4 part: .*leading zero/)
    rejects('::1.2.3.4:5', /bad IPv4 part/)
  })
})

describe('IPv6 CIDR block', () => {
  test('has its host bits cleared', () => {
    normalisesTo('2001:db8::/32', '2001:DB8::1/32', '2001:db8:ffff:ffff::/32')
    normalisesTo('2001:db8:8000::/33', '2001:db8:ffff::/33')
    normalisesTo('::/0', 'ffff::1/0')
    normalisesTo('2001:db8::/127', '2001:db8::1/127')
  })

  test('of /128 is the plain address', () => {
    normalisesTo('2001:db8::1', '2001:DB8:0::1/128')
  })

  test('is rejected with a prefix out of range', () => {
    rejects('2001:db8::/129', /prefix length must be a number 0-128/)
    rejects('2001:db8::/-1', /prefix length/)
  })
})

describe('anything else', () => {
  test('is rejected when empty', () => {
    rejects('', /empty key/)
  })

  test('is rejected when it contains whitespace or control characters', () => {
    rejects('example .com', /contains whitespace/)
    rejects(' example.com', /contains whitespace/)
    rejects('example.com\t', /contains whitespace/)
    rejects('exam\u0001ple.com', /control character/)
  })

  test('names the rejected key in the error message', () => {
    rejects('a..b', /^invalid key "a\.\.b": /)
  })
})

describe('checkKey', () => {
  test('returns the canonical key for a valid key', () => {
    assert.equal(checkKey('Example.COM'), 'example.com')
  })

  test('returns a KeyProblem for an invalid key instead of throwing', () => {
    const r = checkKey('a..b')
    assert.ok(r instanceof KeyProblem)
    assert.match(r.reason, /empty label/)
  })
})
