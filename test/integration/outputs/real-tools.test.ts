/**
 * The rendered outputs, read by the real programs: postmap (hash and cidr tables), SpamAssassin
 * (--lint and -t with USER_IN_WELCOMELIST / USER_IN_BLOCKLIST), rspamd (configtest with a
 * multimap over the maps). Property tests: any list content renders to a file the program
 * accepts without a warning, and every written key looks up to the action the list gives it.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { resolveLists, type ListItem } from '../../../src/outputs/lists.js'
import { renderOutput } from '../../../src/outputs/formats.js'
import { postfixAction } from '../../../src/outputs/postfix-access.js'
import { normaliseKey } from '../../../src/settings/list-key.js'
import { LIST_DATASETS } from '../../../src/constants.js'
import { postfixConfigDir, postmapQuery, rspamdConfigtest, saHits, saLint, saSiteConfig } from '../../helpers/mail-tools.js'

const ALL = [...LIST_DATASETS]
let dir: string
let pfConf: string

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spamsync-outputs-'))
  pfConf = await postfixConfigDir(join(dir, 'postfix'))
})
after(async () => { await rm(dir, { recursive: true, force: true }) })

function items (...lines: string[]): ListItem[] {
  return lines.map(l => {
    const sp = l.indexOf(' ')
    return sp < 0 ? { key: normaliseKey(l), value: '' } : { key: normaliseKey(l.slice(0, sp)), value: l.slice(sp + 1) }
  })
}

const SAMPLE = {
  whitelist: items('joe@example.com', 'friends.example', '10.1.2.3', '2001:db8:1::5', 'ü@example.com trusted'),
  autowhitelist: items('auto@example.net'),
  blacklist: items('spam@bad.example', 'bad.example 550 5.7.1 no thanks', '*.spam.example', '10.0.0.0/8', '2001:db8::/32', 'x#y@bad.example DISCARD')
}

describe('postmap', () => {
  test('a hash access table: every kind of key looks up to its action', async () => {
    const path = join(dir, 'sender_access')
    await writeFile(path, renderOutput('postfix-access', resolveLists(SAMPLE), ALL).text)
    const got = await postmapQuery(pfConf, `hash:${path}`, ['joe@example.com', 'friends.example', 'ü@example.com', 'auto@example.net', 'spam@bad.example', 'bad.example', '.spam.example', 'x#y@bad.example', 'nobody@else.example'], true)
    assert.deepEqual(Object.fromEntries(got), {
      'joe@example.com': 'OK',
      'friends.example': 'OK',
      'ü@example.com': 'OK',
      'auto@example.net': 'OK',
      'spam@bad.example': 'REJECT',
      'bad.example': '550 5.7.1 no thanks',
      '.spam.example': 'REJECT',
      'x#y@bad.example': 'DISCARD'
    })
  })

  test('a cidr table: an address inside a blocked block but whitelisted is OK, the rest of the block REJECT', async () => {
    const path = join(dir, 'client_access.cidr')
    await writeFile(path, renderOutput('postfix-cidr', resolveLists(SAMPLE), ALL).text)
    const got = await postmapQuery(pfConf, `cidr:${path}`, ['10.1.2.3', '10.9.9.9', '2001:db8:1::5', '2001:db8:2::1', '192.0.2.1'], false)
    assert.deepEqual(Object.fromEntries(got), { '10.1.2.3': 'OK', '10.9.9.9': 'REJECT', '2001:db8:1::5': 'OK', '2001:db8:2::1': 'REJECT' })
  })

  // Keys of every kind, VALUEs of any text (notes, actions, control and non-ASCII characters, '#').
  const keyArb = fc.oneof(
    fc.tuple(fc.stringMatching(/^[a-z0-9][a-z0-9.+=_'#!%&-]{0,10}$/), fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]\.(example|test)$/)).map(([l, d]) => `${l}@${d}`),
    fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]\.(example|test)$/),
    fc.stringMatching(/^\*\.[a-z][a-z0-9]{0,8}\.example$/),
    fc.ipV4(),
    fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([ip, p]) => `${ip}/${p}`),
    fc.ipV6(),
    fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([ip, p]) => `${ip}/${p}`)
  ).map(k => normaliseKey(k))
  const valueArb = fc.oneof(fc.constantFrom('', 'OK', 'REJECT', 'REJECT go away', '550 5.7.1 no', '550', 'DUNNO', 'trusted', 'reject # not a comment', 'HOLD'), fc.string({ unit: 'grapheme', maxLength: 20 }).map(s => s.trim()))
  const listArb = fc.uniqueArray(fc.tuple(keyArb, valueArb), { selector: ([k]) => k, maxLength: 25 })

  test('property: any lists render to tables postmap reads without a warning, each key looking up to its action', async () => {
    let run = 0
    await fc.assert(fc.asyncProperty(listArb, listArb, listArb, async (w, b, a) => {
      const resolved = resolveLists({ whitelist: w.map(([key, value]) => ({ key, value })), blacklist: b.map(([key, value]) => ({ key, value })), autowhitelist: a.map(([key, value]) => ({ key, value })) })
      const access = join(dir, `prop-access-${run}`)
      const cidr = join(dir, `prop-${run++}.cidr`)
      await writeFile(access, renderOutput('postfix-access', resolved, ALL).text)
      await writeFile(cidr, renderOutput('postfix-cidr', resolved, ALL).text)
      const senders = resolved.senders
      const got = await postmapQuery(pfConf, `hash:${access}`, senders.map(k => k.kind === 'wildcard' ? k.key.slice(1) : k.key), true)
      for (const k of senders) assert.equal(got.get(k.kind === 'wildcard' ? k.key.slice(1) : k.key), postfixAction(k), k.key)
      // The cidr table is read whole at lookup; a plain address key must find its own line's action
      // unless a more specific entry covers it (never, for a plain address: it is the most specific).
      const plain = resolved.ips.filter(k => k.kind === 'ipv4' || k.kind === 'ipv6')
      const gotIp = await postmapQuery(pfConf, `cidr:${cidr}`, plain.map(k => k.key), false)
      for (const k of plain) assert.equal(gotIp.get(k.key), postfixAction(k), k.key)
    }), { numRuns: 12 })
  })
})

describe('SpamAssassin', () => {
  const message = (from: string): string => `From: Someone <${from}>\nTo: postmaster@example.org\nSubject: hello\nDate: Sun, 6 Dec 2026 03:00:00 +0000\nMessage-ID: <m1@example.org>\n\nhello\n`

  test('--lint passes; a whitelisted sender hits USER_IN_WELCOMELIST, a blacklisted address or (sub)domain USER_IN_BLOCKLIST', async () => {
    const site = await saSiteConfig(join(dir, 'sa'), { 'spamsync.cf': renderOutput('spamassassin', resolveLists(SAMPLE), ALL).text })
    const home = join(dir, 'sa-home')
    await mkdir(home, { recursive: true })
    const lint = await saLint(site, home)
    assert.equal(lint.code, 0, lint.stderr)
    const [welcome, auto, address, domain, sub, nobody] = await Promise.all([
      saHits(site, home, message('joe@example.com')),
      saHits(site, home, message('auto@example.net')),
      saHits(site, home, message('spam@bad.example')),
      saHits(site, home, message('anyone@bad.example')),
      saHits(site, home, message('x@a.b.spam.example')),
      saHits(site, home, message('x@spam.example'))
    ])
    assert.ok(welcome.includes('USER_IN_WELCOMELIST'), welcome.join(' '))
    assert.ok(auto.includes('USER_IN_WELCOMELIST'), auto.join(' '))
    assert.ok(address.includes('USER_IN_BLOCKLIST'), address.join(' '))
    assert.ok(domain.includes('USER_IN_BLOCKLIST'), domain.join(' '))
    assert.ok(sub.includes('USER_IN_BLOCKLIST'), sub.join(' '))
    // *.spam.example is the subdomains only.
    assert.ok(!nobody.includes('USER_IN_BLOCKLIST'), nobody.join(' '))
  })

  test('property: any lists render to a .cf that --lint passes', async () => {
    const home = join(dir, 'sa-home-prop')
    await mkdir(home, { recursive: true })
    const keyArb = fc.oneof(
      fc.tuple(fc.stringMatching(/^[a-z0-9][a-z0-9.+=_'#!%&*?{}|~^$-]{0,10}$/), fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]\.example$/)).map(([l, d]) => `${l}@${d}`),
      fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]\.example$/),
      fc.stringMatching(/^\*\.[a-z][a-z0-9]{0,8}\.example$/),
      fc.ipV4()
    ).map(k => normaliseKey(k))
    const listArb = fc.uniqueArray(fc.tuple(keyArb, fc.string()), { selector: ([k]) => k, maxLength: 60 })
    let run = 0
    await fc.assert(fc.asyncProperty(listArb, listArb, async (w, b) => {
      const text = renderOutput('spamassassin', resolveLists({ whitelist: w.map(([key, value]) => ({ key, value })), blacklist: b.map(([key, value]) => ({ key, value })) }), ALL).text
      const site = await saSiteConfig(join(dir, `sa-prop-${run++}`), { 'spamsync.cf': text })
      const lint = await saLint(site, home)
      assert.equal(lint.code, 0, `${lint.stderr}\n${text}`)
    }), { numRuns: 3 })
  })
})

describe('rspamd', () => {
  test('configtest passes with a multimap over the rendered from and ip maps', async () => {
    const local = join(dir, 'rspamd')
    await mkdir(join(local, 'local.d'), { recursive: true })
    const resolved = resolveLists(SAMPLE)
    const maps: Record<string, string> = {
      'from_allow.map': renderOutput('rspamd-from', resolved, ['whitelist', 'autowhitelist']).text,
      'from_block.map': renderOutput('rspamd-from', resolved, ['blacklist']).text,
      'ip_allow.map': renderOutput('rspamd-ip', resolved, ['whitelist', 'autowhitelist']).text,
      'ip_block.map': renderOutput('rspamd-ip', resolved, ['blacklist']).text
    }
    for (const [name, text] of Object.entries(maps)) await writeFile(join(local, name), text)
    await writeFile(join(local, 'local.d', 'multimap.conf'), [
      `SPAMSYNC_FROM_ALLOW { type = "from"; map = "${join(local, 'from_allow.map')}"; glob = true; score = -10.0; }`,
      `SPAMSYNC_FROM_BLOCK { type = "from"; map = "${join(local, 'from_block.map')}"; glob = true; score = 10.0; }`,
      `SPAMSYNC_IP_ALLOW { type = "ip"; map = "${join(local, 'ip_allow.map')}"; score = -10.0; }`,
      `SPAMSYNC_IP_BLOCK { type = "ip"; map = "${join(local, 'ip_block.map')}"; score = 10.0; }`,
      ''
    ].join('\n'))
    const r = await rspamdConfigtest(local)
    assert.equal(r.code, 0, r.output)
    assert.match(r.output, /syntax OK/)
  })
})
