import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { keyKind, resolveLists, type ListItem } from '../../../src/outputs/lists.js'
import { renderOutput, OUTPUT_FORMATS } from '../../../src/outputs/formats.js'
import { isPostfixAction } from '../../../src/outputs/postfix-action.js'
import { LIST_DATASETS, type ListDataset } from '../../../src/constants.js'
import { normaliseKey } from '../../../src/settings/list-key.js'

const ALL = [...LIST_DATASETS]

function items (...lines: string[]): ListItem[] {
  return lines.map(l => {
    const sp = l.indexOf(' ')
    return sp < 0 ? { key: normaliseKey(l), value: '' } : { key: normaliseKey(l.slice(0, sp)), value: l.slice(sp + 1) }
  })
}

/** The entry lines of a rendering (its header comment left out). */
function body (text: string): string[] {
  return text.split('\n').filter(l => l !== '' && !l.startsWith('#'))
}

describe('key kinds', () => {
  test('each canonical spelling has its kind', () => {
    assert.equal(keyKind('joe@example.com'), 'address')
    assert.equal(keyKind('example.com'), 'domain')
    assert.equal(keyKind('example.a1'), 'domain')
    assert.equal(keyKind('*.example.com'), 'wildcard')
    assert.equal(keyKind('192.0.2.1'), 'ipv4')
    assert.equal(keyKind('192.0.2.0/24'), 'cidr4')
    assert.equal(keyKind('2001:db8::1'), 'ipv6')
    assert.equal(keyKind('2001:db8::/32'), 'cidr6')
  })
})

describe('postfix-access', () => {
  test('renders addresses and domains with the list action; wildcards as .domain; IPs left out', () => {
    const resolved = resolveLists({
      whitelist: items('joe@example.com', 'friends.example'),
      blacklist: items('spam@bad.example', '*.spam.example', '192.0.2.0/24')
    })
    const r = renderOutput('postfix-access', resolved, ALL)
    assert.deepEqual(body(r.text), ['*.spam.example'.slice(1) + ' REJECT', 'friends.example OK', 'joe@example.com OK', 'spam@bad.example REJECT'])
    assert.equal(r.written, 4)
    assert.deepEqual(r.leftOut, { 'IP address or CIDR block (goes in a postfix-cidr output)': 1 })
  })

  test('uses a VALUE that is an access(5) action as written, and the list action for a note', () => {
    const resolved = resolveLists({
      blacklist: items('a@x.example 550 5.7.1 go away', 'b@x.example trusted', 'c@x.example 550', 'd@x.example DISCARD', 'e@x.example reject no thanks')
    })
    assert.deepEqual(body(renderOutput('postfix-access', resolved, ALL).text), [
      'a@x.example 550 5.7.1 go away', 'b@x.example REJECT', 'c@x.example REJECT', 'd@x.example DISCARD', 'e@x.example reject no thanks'
    ])
  })

  test('an entry\'s comment never reaches an output: the value alone decides the action', () => {
    const resolved = resolveLists({
      blacklist: items('a@x.example 550 5.7.1 go away # ticket 9', 'b@x.example #only a note', 'c@x.example DISCARD #why')
    })
    assert.deepEqual(body(renderOutput('postfix-access', resolved, ALL).text), [
      'a@x.example 550 5.7.1 go away', 'b@x.example REJECT', 'c@x.example DISCARD'
    ])
  })

  test('a key in two lists: whitelist over blacklist over autowhitelist, conflicts counted', () => {
    const resolved = resolveLists({
      whitelist: items('both@x.example'),
      blacklist: items('both@x.example', 'auto@x.example'),
      autowhitelist: items('auto@x.example', 'both@x.example', 'only@x.example')
    })
    const all = renderOutput('postfix-access', resolved, ALL)
    assert.deepEqual(body(all.text), ['auto@x.example REJECT', 'both@x.example OK', 'only@x.example OK'])
    assert.equal(all.conflicts, 2)
    const black = renderOutput('postfix-access', resolved, ['blacklist'])
    assert.deepEqual(body(black.text), ['auto@x.example REJECT'])
    assert.deepEqual(black.leftOut, { 'listed in whitelist, which takes precedence': 1 })
  })
})

describe('postfix-cidr', () => {
  test('most specific block first, so a whitelisted address inside a blacklisted block gets in', () => {
    const resolved = resolveLists({
      whitelist: items('10.1.2.3', 'joe@example.com'),
      blacklist: items('10.0.0.0/8', '2001:db8::/32', '10.1.0.0/16', '2001:db8::1')
    })
    const r = renderOutput('postfix-cidr', resolved, ALL)
    assert.deepEqual(body(r.text), ['10.1.2.3 OK', '10.1.0.0/16 REJECT', '10.0.0.0/8 REJECT', '2001:db8::1 REJECT', '2001:db8::/32 REJECT'])
    assert.deepEqual(r.leftOut, { 'address or domain (goes in a postfix-access output)': 1 })
  })
})

describe('spamassassin', () => {
  test('welcomelist_from / blocklist_from with *@domain and *@*.domain; globs and IPs left out; # escaped', () => {
    const resolved = resolveLists({
      whitelist: items('joe@example.com', 'friends.example', 'a*b@example.com'),
      autowhitelist: items('auto@example.com'),
      blacklist: items('*.spam.example', 'x#y@bad.example', '192.0.2.1')
    })
    const r = renderOutput('spamassassin', resolved, ALL)
    assert.deepEqual(body(r.text), [
      'blocklist_from *@*.spam.example', 'welcomelist_from auto@example.com', 'welcomelist_from *@friends.example',
      'welcomelist_from joe@example.com', 'blocklist_from x\\#y@bad.example'
    ])
    assert.equal(r.leftOut['address with "*" or "?", which SpamAssassin reads as a wildcard'], 1)
    assert.equal(r.leftOut['IP address or CIDR block (welcomelist_from/blocklist_from match senders)'], 1)
  })
})

describe('rspamd', () => {
  test('from map: addresses, domains, *.domain globs; ip map: addresses and blocks', () => {
    const resolved = resolveLists({ blacklist: items('spam@bad.example', 'bad.example', '*.worse.example', '192.0.2.0/24', '2001:db8::1', 'a?b@bad.example') })
    const from = renderOutput('rspamd-from', resolved, ['blacklist'])
    assert.deepEqual(body(from.text), ['*.worse.example', 'bad.example', 'spam@bad.example'])
    assert.equal(from.leftOut['address with "*" or "?", which a glob map reads as a wildcard'], 1)
    assert.deepEqual(body(renderOutput('rspamd-ip', resolved, ['blacklist']).text), ['192.0.2.0/24', '2001:db8::1'])
  })
})

describe('postfix actions', () => {
  test('accepted and refused values', () => {
    for (const v of ['OK', 'ok', 'DUNNO', 'REJECT', 'REJECT not here', '550 5.7.1 no', '450 later', 'DISCARD', 'HOLD', 'DEFER_IF_PERMIT x', 'WARN look']) assert.ok(isPostfixAction(v), v)
    for (const v of ['', 'trusted', '550', '42', 'OK then', 'REJECT\tx', 'REJECT é', '650 no', 'permit']) assert.ok(!isPostfixAction(v), v)
  })
})

const keyArb = fc.oneof(
  fc.constantFrom('joe@example.com', 'a.b+c@x.example', 'x#y@bad.example', 'ü@example.com', 'example.com', 'sub.example.org',
    '*.spam.example', '192.0.2.1', '10.0.0.0/8', '2001:db8::/32', '::ffff:192.0.2.1', 'a*b@example.com'),
  fc.tuple(fc.stringMatching(/^[a-z0-9]{1,8}$/), fc.constantFrom('example.com', 'spam.example')).map(([l, d]) => `${l}@${d}`),
  fc.tuple(fc.integer({ min: 1, max: 223 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 8, max: 32 })).map(([a, b, p]) => `${a}.${b}.0.0/${p}`)
).map(k => normaliseKey(k))

const listsArb = fc.record({
  whitelist: fc.array(fc.tuple(keyArb, fc.string()), { maxLength: 20 }),
  blacklist: fc.array(fc.tuple(keyArb, fc.string()), { maxLength: 20 }),
  autowhitelist: fc.array(fc.tuple(keyArb, fc.string()), { maxLength: 20 })
})

function toItems (pairs: Array<[string, string]>): ListItem[] {
  return pairs.map(([key, value]) => ({ key, value }))
}

describe('properties', () => {
  test('rendering is deterministic: the same entries in any order give the same bytes', () => {
    // A list holds a key once (the list file parser keeps the first line of a key).
    const dedupe = (pairs: Array<[string, string]>): Array<[string, string]> => [...new Map(pairs).entries()]
    fc.assert(fc.property(listsArb, fc.constantFrom(...OUTPUT_FORMATS), (lists, format) => {
      const w = dedupe(lists.whitelist)
      const b = dedupe(lists.blacklist)
      const a = dedupe(lists.autowhitelist)
      const datasets: ListDataset[] = format.startsWith('rspamd') ? ['blacklist'] : ALL
      const forward = renderOutput(format, resolveLists({ whitelist: toItems(w), blacklist: toItems(b), autowhitelist: toItems(a) }), datasets)
      const backward = renderOutput(format, resolveLists({ autowhitelist: toItems([...a].reverse()), blacklist: toItems([...b].reverse()), whitelist: toItems([...w].reverse()) }), datasets)
      assert.equal(backward.text, forward.text)
      assert.deepEqual(backward.leftOut, forward.leftOut)
    }))
  })

  test('every line is one entry: no line break, tab or control character reaches a file from a VALUE', () => {
    fc.assert(fc.property(listsArb, fc.constantFrom(...OUTPUT_FORMATS), (lists, format) => {
      const resolved = resolveLists({ whitelist: toItems(lists.whitelist), blacklist: toItems(lists.blacklist), autowhitelist: toItems(lists.autowhitelist) })
      const r = renderOutput(format, resolved, format.startsWith('rspamd') ? ['whitelist', 'autowhitelist'] : ALL)
      const lines = body(r.text)
      assert.equal(lines.length, r.written)
      // eslint-disable-next-line no-control-regex -- control characters are what the output must not hold
      for (const l of lines) assert.doesNotMatch(l, /[\x00-\x1f\x7f]/)
    }))
  })
})
