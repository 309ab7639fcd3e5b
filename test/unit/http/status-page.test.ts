/**
 * The status page's script, run on a fake document: it parses, escapes text as the agent does
 * (src/printable.ts), shows every time in one UTC format, shows this node's listen addresses,
 * uptime, clock offset and traffic, lists the kept versions, and presses its buttons only with
 * the control token, in its own same-origin requests, a roll back only after a confirmation.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML } from '../../../src/http/status-page.js'
import { printable } from '../../../src/printable.js'
import { FakeBrowser, settle, type FakeElement } from '../../helpers/fake-dom.js'

const script = STATUS_PAGE_HTML.split('<script>')[1].split('</script>')[0]

const HOSTILE = '\x1b[2J\x1b[Hfake\r\n\x9b31m\u202eevil\u2066\x07 <b>Grüße</b> 😀'
const TOKEN = 'a'.repeat(64)
const ONE_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/

/** A status document as the agent's GET /status has it: a master with one peer. */
function statusDoc (): any {
  return {
    nodeId: '12D3KooWSelf',
    name: 'mx1',
    agentVersion: '0.1.0',
    role: 'slave',
    masterId: '12D3KooWPeer',
    term: 3,
    version: { term: 3, seq: 7 },
    appliedVersion: { term: 3, seq: 7 },
    clockOffsetMs: -1500,
    listen: ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWSelf', '/ip4/10.0.0.5/tcp/4001/p2p/12D3KooWSelf'],
    peers: [{ id: '12D3KooWPeer', name: HOSTILE, role: 'master', live: true, agentVersion: '0.1.0', compatible: true, reason: null, appliedVersion: { term: 3, seq: 7 }, clockOffsetMs: 12, lastSeen: '2026-12-06T18:40:12.345Z' }],
    cluster: [
      { nodeId: '12D3KooWSelf', name: 'mx1', role: 'slave', self: true, appliedVersion: '3.7', lagVersions: 0, lagSeconds: 0, lastSync: '2026-12-06T18:39:00.000Z', outputs: null, hooks: null, uptimeSeconds: 93784, agentVersion: '0.1.0', health: 'ok', problems: [] },
      { nodeId: '12D3KooWPeer', name: HOSTILE, role: 'master', self: false, appliedVersion: '3.7', lagVersions: 0, lagSeconds: null, lastSync: null, outputs: null, hooks: null, uptimeSeconds: 59, agentVersion: '0.1.0', health: 'warn', problems: [`error: ${HOSTILE}`] }
    ],
    summary: `2 nodes: ${HOSTILE}`,
    datasets: { blacklist: { entries: 3, invalidCount: 0, invalidLines: [] } },
    bytesSent: 512,
    bytesReceived: 3 * 1024 * 1024 + 1,
    fetchBytesServed: 0,
    lastUpload: { kind: 'delta', bytes: 2048, time: '2026-12-06T18:39:00.000Z' },
    lastDownload: null,
    outputs: [],
    errors: [{ what: 'fetch', message: HOSTILE, count: 2, time: '2026-12-06T18:00:00.000Z', lastTime: '2026-12-06T18:30:00.000Z' }],
    warnings: [],
    uptimeSeconds: 93784
  }
}

const HISTORY = [
  { version: { term: 3, seq: 7 }, time: '2026-12-06T18:35:00.000Z', origin: '12D3KooWPeer', counts: { blacklist: 3 }, sizes: {} },
  { version: { term: 3, seq: 6 }, time: '2026-12-06T18:20:00.000Z', origin: '12D3KooWSelf', counts: { blacklist: 2 }, sizes: { blacklist: 40 }, changes: { blacklist: { added: 1, removed: 0 } } }
]

interface Page { render: (s: unknown) => void, time: (t: unknown) => string }

/** The page loaded on a fake browser with the agent answering; optionally with a token kept from before. */
async function loadPage (token?: string): Promise<{ browser: FakeBrowser, page: Page }> {
  const browser = new FakeBrowser()
  if (token !== undefined) browser.storage.set('spamsync-control-token', token)
  browser.answers.set('GET /status', { status: 200, body: statusDoc() })
  browser.answers.set('GET /history', { status: 200, body: HISTORY })
  const page = browser.run<Page>(script, ['render', 'time'])
  await settle()
  return { browser, page }
}

/** The texts of every element under a static element. */
function texts (e: FakeElement): string[] {
  return [e.textContent, ...e.findAll(() => true).map(c => c.textContent)]
}

test('the page script is valid JavaScript, and the CSP allows exactly it', () => {
  assert.doesNotThrow(() => new Function(script))
  assert.match(STATUS_PAGE_CSP, /script-src 'sha256-[A-Za-z0-9+/]+=*'/)
})

test('the page escapes control and bidi characters exactly as the agent does', () => {
  const pagePrintable = new Function(script.split('function el')[0] + '; return printable')() as (t: unknown) => string
  assert.equal(pagePrintable(HOSTILE), printable(HOSTILE))
  assert.equal(pagePrintable(42), '42')
})

test('the script never writes markup (no innerHTML and the like)', () => {
  assert.doesNotMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/)
})

describe('times', () => {
  test('an ISO time is shown to the second in UTC, naming the zone', async () => {
    const { page } = await loadPage()
    assert.equal(page.time('2026-12-06T18:40:12.345Z'), '2026-12-06 18:40:12 UTC')
    assert.equal(page.time(Date.parse('2026-12-06T18:40:12Z')), '2026-12-06 18:40:12 UTC')
  })

  test('a missing or unreadable time is a dash', async () => {
    const { page } = await loadPage()
    for (const t of [null, undefined, '', 'yesterday', 0]) assert.equal(page.time(t), '-')
  })

  test('every time on the rendered page has the one format: last sync, last seen, history, errors', async () => {
    const { browser } = await loadPage()
    const cells = ['cluster', 'nodes', 'history', 'errors', 'self', 'updated'].flatMap(id => texts(browser.$(id)))
    assert.equal(cells.filter(t => /\d\dT\d\d:|Z\b/.test(t)).length, 0, 'no raw ISO time')
    const shown = cells.join('\n').match(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[^\n]{0,4}/g) ?? []
    assert.ok(shown.length >= 6)
    for (const t of shown) assert.match(t, /UTC$/)
    assert.equal(browser.$('cluster').rows()[0][5], '2026-12-06 18:39:00 UTC')
    assert.equal(browser.$('nodes').rows()[0][7], '2026-12-06 18:40:12 UTC')
    assert.equal(browser.$('history').rows()[1][1], '2026-12-06 18:20:00 UTC')
    assert.match(browser.$('errors').textContent, /^2026-12-06 18:00:00 UTC {2}fetch: .*\(2 times, last 2026-12-06 18:30:00 UTC\)$/)
    assert.match(browser.$('updated').textContent.replace(/^updated /, ''), ONE_TIME)
  })
})

describe('this node', () => {
  test('shows its listen addresses, uptime, clock offset to the master and sync traffic', async () => {
    const { browser } = await loadPage()
    const self = Object.fromEntries(browser.$('self').rows().map(([k, v]) => [k, v]))
    assert.equal(self['Listen addresses'], '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWSelf/ip4/10.0.0.5/tcp/4001/p2p/12D3KooWSelf')
    assert.match(self.Uptime, /^1 d 2 h \(since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)$/)
    assert.equal(self['Clock offset to the master'], '-1.5 s (behind the master)')
    assert.equal(self['Sync traffic'], 'received 3.0 MiB, sent 512 B')
    assert.equal(self['Last upload'], 'delta, 2.0 KiB, 2026-12-06 18:39:00 UTC')
  })

  test('the master has no offset to itself', async () => {
    const { browser, page } = await loadPage()
    page.render({ ...statusDoc(), role: 'master', clockOffsetMs: 0 })
    assert.ok(browser.$('self').rows().some(([k, v]) => k === 'Clock offset to the master' && v === 'this node is the master'))
  })

  test('each node\'s uptime is in the cluster table, a peer\'s clock offset in the peers table', async () => {
    const { browser } = await loadPage()
    assert.deepEqual(browser.$('cluster').rows().map(r => r[8]), ['1 d 2 h', '59 s'])
    assert.equal(browser.$('nodes').rows()[0][6], '+12 ms')
  })
})

test('a peer\'s name, problems and error text appear escaped, as text', async () => {
  const { browser } = await loadPage()
  const escaped = printable(HOSTILE)
  assert.equal(browser.$('cluster').rows()[1][1], escaped)
  assert.equal(browser.$('nodes').rows()[0][0], escaped)
  assert.equal(browser.$('cluster-summary').textContent, `2 nodes: ${escaped}`)
  const all = ['cluster', 'nodes', 'errors', 'cluster-summary', 'history'].flatMap(id => texts(browser.$(id))).join('')
  // eslint-disable-next-line no-control-regex -- the escapes, bidi overrides and bell the page must not pass through are what this checks for
  assert.doesNotMatch(all, /[\x1b\x9b\u202e\u2066\x07\r]/)
})

describe('history', () => {
  test('lists each kept version with its time, node name, changes and entries; the current one has no button', async () => {
    const { browser } = await loadPage()
    const rows = browser.$('history').rows()
    assert.deepEqual(rows.map(r => [r[0], r[2], r[3], r[4], r[5]]), [
      ['3.7', printable(HOSTILE), '-', 'blacklist 3', 'showcurrent'],
      ['3.6', 'mx1', 'blacklist: added 1', 'blacklist 2', 'showRoll back to this version']
    ])
  })

  test('a node name given with the version is shown instead of the id', async () => {
    const { browser, page } = await loadPage()
    browser.answers.set('GET /history', { status: 200, body: [{ ...HISTORY[0], version: { term: 3, seq: 8 }, nodeName: 'mx9' }] })
    page.render({ ...statusDoc(), version: { term: 3, seq: 8 } })
    await settle()
    assert.equal(browser.$('history').rows()[0][2], 'mx9')
  })
  test('the history\'s change summary is shown per dataset, with the Bayes counts', async () => {
    const { browser, page } = await loadPage()
    const changes = { lists: { blacklist: { added: 2, removed: 1, changed: 0, keys: [] } }, bayes: { before: { tokens: 10, spam: 1, ham: 2 }, after: { tokens: 15, spam: 2, ham: 2 } } }
    browser.answers.set('GET /history', { status: 200, body: [{ ...HISTORY[0], version: { term: 3, seq: 9 }, name: 'mx2', changes }] })
    page.render({ ...statusDoc(), version: { term: 3, seq: 9 } })
    await settle()
    const cell = browser.$('history').children[0].children[3]
    assert.deepEqual(cell.children.map(d => d.textContent), ['blacklist: added 2, removed 1', 'bayes: 10 -> 15 tokens, 3 -> 4 messages'])
  })

  test('show lists a version\'s changed keys, escaped, its time in the page\'s format', async () => {
    const { browser } = await loadPage()
    const keys = [{ key: 'a.example', kind: 'added', value: '' }, { key: `evil${HOSTILE}`, kind: 'removed', old: 'x' }]
    browser.answers.set('GET /history/3.6', { status: 200, body: { ...HISTORY[1], name: 'mx1', changes: { lists: { blacklist: { added: 1, removed: 1, changed: 0, keys } } } } })
    browser.$('history').findAll(e => e.className === 'show')[1].click()
    await settle()
    assert.deepEqual(browser.$('version-keys').children.map(c => c.textContent), [
      'Version 3.6, 2026-12-06 18:20:00 UTC, from mx1', 'blacklist: added 1, removed 1', '  + a.example', `  - evil${printable(HOSTILE)} (was x)`
    ])
  })
})

describe('buttons', () => {
  test('without the token they are disabled and nothing is posted', async () => {
    const { browser } = await loadPage()
    assert.equal(browser.$('sync-now').disabled, true)
    const rollback = browser.$('history').findAll(e => e.className === 'rollback')
    assert.equal(rollback.length, 1)
    assert.equal(rollback[0].disabled, true)
    assert.deepEqual(browser.requests.filter(r => r.method !== 'GET'), [])
  })

  test('a typed token is checked with POST /check-token, then kept in this tab', async () => {
    const { browser } = await loadPage()
    browser.answers.set('POST /check-token', { status: 200, body: { ok: true } })
    browser.$('token').value = ` ${TOKEN}\n`
    browser.$('unlock').click()
    await settle()
    assert.deepEqual(browser.requests.at(-1), { path: '/check-token', method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })
    assert.equal(browser.storage.get('spamsync-control-token'), TOKEN)
    assert.equal(browser.$('token').value, '')
    assert.equal(browser.$('sync-now').disabled, false)
  })

  test('a refused token is not kept, and the agent\'s reason is shown', async () => {
    const { browser } = await loadPage()
    browser.answers.set('POST /check-token', { status: 403, body: { error: 'ControlTokenError', message: 'POST /check-token: wrong control token' } })
    browser.$('token').value = 'guess'
    browser.$('unlock').click()
    await settle()
    assert.equal(browser.storage.has('spamsync-control-token'), false)
    assert.equal(browser.$('control-note').textContent, 'token refused: ControlTokenError: POST /check-token: wrong control token')
    assert.equal(browser.$('sync-now').disabled, true)
  })

  test('Sync now posts /sync with the token in its header and shows the result', async () => {
    const { browser } = await loadPage(TOKEN)
    browser.answers.set('POST /sync', { status: 200, body: { ok: true, ms: 42, appliedVersion: { term: 3, seq: 7 } } })
    browser.$('sync-now').click()
    await settle()
    assert.deepEqual(browser.requests.at(-1), { path: '/sync', method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })
    assert.match(browser.$('sync-note').textContent, /^synced in 42 ms at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, applied version 3\.7$/)
  })

  test('a token the agent no longer takes is forgotten', async () => {
    const { browser } = await loadPage(TOKEN)
    browser.answers.set('POST /sync', { status: 403, body: { error: 'ControlTokenError', message: 'POST /sync: wrong control token' } })
    browser.$('sync-now').click()
    await settle()
    assert.equal(browser.storage.has('spamsync-control-token'), false)
    assert.equal(browser.$('unlocked').hidden, true)
    assert.equal(browser.$('sync-note').textContent, 'sync failed: ControlTokenError: POST /sync: wrong control token')
  })

  test('Roll back asks first; Cancel posts nothing', async () => {
    const { browser } = await loadPage(TOKEN)
    browser.$('history').findAll(e => e.className === 'rollback')[0].click()
    assert.match(browser.$('history').rows()[1][5], /^showRoll the lists back to 3\.6\? Yes, roll backCancel$/)
    browser.$('history').findAll(e => e.className === 'cancel-rollback')[0].click()
    assert.equal(browser.$('history').rows()[1][5], 'showRoll back to this version')
    assert.deepEqual(browser.requests.filter(r => r.method !== 'GET'), [])
  })

  test('a confirmed roll back posts /rollback for that version with the token, and shows the new version', async () => {
    const { browser } = await loadPage(TOKEN)
    browser.answers.set('POST /rollback?version=3.6', { status: 200, body: { ok: true, version: { term: 3, seq: 8 } } })
    browser.$('history').findAll(e => e.className === 'rollback')[0].click()
    browser.$('history').findAll(e => e.className === 'confirm-rollback')[0].click()
    await settle()
    assert.deepEqual(browser.requests.filter(r => r.method === 'POST'), [{ path: '/rollback?version=3.6', method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } }])
    assert.match(browser.$('history-note').textContent, /^rolled back to 3\.6: new central version 3\.8 at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/)
  })
})
