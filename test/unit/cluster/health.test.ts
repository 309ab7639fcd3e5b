/** The cluster view's pure parts: health records, lag, the table and its one-line summary. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  ClusterView, LagClock, clusterSummary, clusterTable, healthRecord, peerHealth, versionsBehind,
  LAST_ERROR_MAX, NAME_MAX, RECENT_ERROR_MS, type HealthInputs, type NodeSeen, type SelfSeen
} from '../../../src/cluster/health.js'
import { Beacon, NodeHealth } from '../../../src/pb/spamsync.js'
import { isPrintable } from '../../../src/printable.js'

const T0 = Date.parse('2026-12-06T04:00:00.000Z')

const QUIET: HealthInputs = { lastUpload: null, lastDownload: null, errors: [], invalid: {}, outputs: [], hooks: null, lagMs: 0, startedAtMs: T0 }

function seen (over: Partial<NodeSeen>): NodeSeen {
  return {
    nodeId: 'id-' + (over.name ?? 'x'),
    name: 'x',
    role: 'slave',
    self: false,
    live: true,
    lastSeenMs: T0,
    agentVersion: '0.1.0',
    appliedVersion: { term: 2, seq: 5 },
    version: { term: 2, seq: 5 },
    health: healthRecord(QUIET, T0),
    ...over
  }
}

describe('LagClock', () => {
  it('counts from when a newer version was first known until it is applied', () => {
    const lag = new LagClock()
    assert.equal(lag.lagMs({ term: 1, seq: 3 }, { term: 1, seq: 3 }, T0), 0)
    assert.equal(lag.lagMs({ term: 1, seq: 3 }, { term: 1, seq: 4 }, T0 + 1000), 0)
    // A second newer version while still behind does not restart the count.
    assert.equal(lag.lagMs({ term: 1, seq: 3 }, { term: 1, seq: 5 }, T0 + 61_000), 60_000)
    assert.equal(lag.lagMs({ term: 1, seq: 5 }, { term: 1, seq: 5 }, T0 + 62_000), 0)
    assert.equal(lag.lagMs({ term: 1, seq: 5 }, { term: 2, seq: 1 }, T0 + 70_000), 0)
    assert.equal(lag.lagMs({ term: 1, seq: 5 }, { term: 2, seq: 1 }, T0 + 75_000), 5_000)
  })
})

describe('healthRecord', () => {
  it('sums repeated errors, cuts the latest to 200 printable characters, and counts runs', () => {
    const h = healthRecord({
      lastUpload: '2026-12-06T04:00:10.000Z',
      lastDownload: '2026-12-06T04:00:20.000Z',
      errors: [
        { what: 'upload', message: 'refused', count: 3, lastTime: '2026-12-06T04:00:01.000Z' },
        { what: 'hook afterApply', message: '\x1b[2J' + 'x'.repeat(500), count: 2, lastTime: '2026-12-06T04:00:30.000Z' }
      ],
      invalid: { blacklist: 2, whitelist: 0, nonsense: 9 },
      outputs: [
        { writeError: null, command: { ok: false, successes: 4, failures: 1 } },
        { writeError: null, command: null },
        { writeError: null, command: { ok: true, successes: 2, failures: 0 } }
      ],
      hooks: { ok: 5, failed: 2, lastFailed: true },
      lagMs: 1234,
      startedAtMs: T0
    }, T0 + 90_500)
    assert.equal(h.errorCount, 5)
    assert.equal(h.lastError.length, LAST_ERROR_MAX)
    assert.ok(h.lastError.startsWith('hook afterApply: \\x1b[2J'))
    assert.ok(isPrintable(h.lastError))
    assert.equal(h.lastErrorMs, Date.parse('2026-12-06T04:00:30.000Z'))
    assert.equal(h.lastSyncMs, Date.parse('2026-12-06T04:00:20.000Z'))
    assert.deepEqual(h.invalidLines, [{ dataset: 'blacklist', count: 2 }])
    assert.deepEqual([h.outputsOk, h.outputsFailed, h.outputsFailing], [6, 1, true])
    assert.deepEqual([h.hooksOk, h.hooksFailed, h.hooksFailing], [5, 2, true])
    assert.equal(h.lagMs, 1234)
    assert.equal(h.uptimeS, 90)
  })

  it('travels in a beacon and back; a beacon of an agent before health decodes without it', () => {
    const health = healthRecord({ ...QUIET, invalid: { whitelist: 7 }, lagMs: 5000 }, T0 + 1000)
    const b = Beacon.decode(Beacon.encode({ nodeId: 'n', name: 'mx1', health }))
    assert.equal(b.name, 'mx1')
    assert.deepEqual(b.health, health)
    const old = Beacon.decode(Beacon.encode({ nodeId: 'n' }))
    assert.equal(old.name, '')
    assert.equal(old.health, undefined)
    // The generated decoders skip a field they do not know: an older agent reads this beacon
    // without name and health, as this one reads a field 30 a newer agent may add.
    const newer = Beacon.encode({ nodeId: 'n', name: 'mx1' })
    const withField30 = new Uint8Array([...newer, 0xf0, 0x01, 0x05])
    assert.deepEqual(Beacon.decode(withField30), Beacon.decode(newer))
    assert.deepEqual(NodeHealth.decode(new Uint8Array([...NodeHealth.encode(health), 0xb8, 0x01, 0x05])), health)
  })
})

describe('peerHealth', () => {
  it('bounds what a peer says: the name printable and cut, the error cut, unknown datasets dropped', () => {
    const hostile = '\x1b[2J\u202emx1' + 'n'.repeat(300)
    const h = healthRecord(QUIET, T0)
    const got = peerHealth(hostile, { ...h, lastError: 'e'.repeat(5000), invalidLines: [{ dataset: 'blacklist', count: 1 }, { dataset: '\x1bevil', count: 2 }] })
    assert.equal(got.name.length, NAME_MAX)
    assert.ok(isPrintable(got.name) && got.name.startsWith('\\x1b[2J\\u202emx1'))
    assert.equal(got.health?.lastError.length, LAST_ERROR_MAX)
    assert.deepEqual(got.health?.invalidLines, [{ dataset: 'blacklist', count: 1 }])
    assert.equal(peerHealth('old', undefined).health, null)
  })
})

describe('versionsBehind', () => {
  it('is the seq gap in one term, and at least the newest seq across a term change', () => {
    assert.equal(versionsBehind({ term: 2, seq: 5 }, { term: 2, seq: 5 }), 0)
    assert.equal(versionsBehind({ term: 2, seq: 6 }, { term: 2, seq: 5 }), 0)
    assert.equal(versionsBehind({ term: 2, seq: 1 }, { term: 2, seq: 5 }), 4)
    assert.equal(versionsBehind({ term: 1, seq: 9 }, { term: 2, seq: 3 }), 3)
  })
})

describe('clusterTable and clusterSummary', () => {
  it('5 nodes in sync: all green, one line says so', () => {
    const nodes = clusterTable(['mx1', 'mx2', 'mx3', 'mx4', 'mx5'].map((name, i) => seen({ name, self: i === 2, role: i === 0 ? 'master' : 'slave' })), T0)
    assert.deepEqual(nodes.map(n => n.name), ['mx3', 'mx1', 'mx2', 'mx4', 'mx5'])
    assert.ok(nodes.every(n => n.health === 'ok' && n.lagVersions === 0 && n.problems.length === 0))
    assert.equal(clusterSummary(nodes), '5 nodes, all in sync')
  })

  it('a node behind whose hook failed, and a node down, are named in the summary, the down one first', () => {
    const failing = { ...healthRecord(QUIET, T0), hooksFailing: true, hooksFailed: 1, lagMs: 125_000 }
    const nodes = clusterTable([
      seen({ name: 'mx1', self: true, role: 'master', version: { term: 2, seq: 9 }, appliedVersion: { term: 2, seq: 9 } }),
      seen({ name: 'mx3', appliedVersion: { term: 2, seq: 5 }, health: failing }),
      seen({ name: 'mx2', appliedVersion: { term: 2, seq: 9 }, live: false }),
      seen({ name: 'old', appliedVersion: { term: 2, seq: 9 }, health: null, agentVersion: null })
    ], T0)
    const mx3 = nodes.find(n => n.name === 'mx3')!
    assert.deepEqual([mx3.lagVersions, mx3.lagSeconds, mx3.health, mx3.problems], [4, 125, 'warn', ['4 versions behind', 'hook failed']])
    const mx2 = nodes.find(n => n.name === 'mx2')!
    assert.deepEqual([mx2.down, mx2.health, mx2.problems], [true, 'down', ['down']])
    const old = nodes.find(n => n.name === 'old')!
    assert.deepEqual([old.health, old.lagSeconds, old.lastSync, old.hooks], ['ok', null, null, null])
    assert.equal(clusterSummary(nodes), '4 nodes: mx2 is down; mx3 is 4 versions behind: hook failed')
  })

  it('an error is a problem while recent, invalid lines while there are any', () => {
    const h = { ...healthRecord(QUIET, T0), lastError: 'upload: refused', lastErrorMs: T0, errorCount: 1, invalidLines: [{ dataset: 'blacklist', count: 3 }] }
    const recent = clusterTable([seen({ name: 'mx1', health: h })], T0 + RECENT_ERROR_MS - 1)[0]
    assert.deepEqual(recent.problems, ['error: upload: refused', '3 invalid lines'])
    assert.equal(clusterSummary([recent]), '1 node: mx1: error: upload: refused, 3 invalid lines')
    const later = clusterTable([seen({ name: 'mx1', health: h })], T0 + RECENT_ERROR_MS)[0]
    assert.deepEqual(later.problems, ['3 invalid lines'])
    assert.deepEqual(later.invalidLines, { blacklist: 3 })
  })
})

describe('clusterTable: names', () => {
  it('two live nodes of one name are a problem on both; a down namesake (a reinstalled node) is not', () => {
    const nodes = clusterTable([seen({ name: 'mx1', nodeId: 'a', self: true }), seen({ name: 'mx1', nodeId: 'b' }), seen({ name: 'mx2', nodeId: 'c' })], T0)
    assert.deepEqual(nodes.map(n => [n.nodeId, n.health, n.problems]), [['a', 'warn', ['name shared with 1 other node']], ['b', 'warn', ['name shared with 1 other node']], ['c', 'ok', []]])
    assert.equal(clusterSummary(nodes), '3 nodes: mx1: name shared with 1 other node; mx1: name shared with 1 other node')
    const reinstalled = clusterTable([seen({ name: 'mx1', nodeId: 'new', self: true }), seen({ name: 'mx1', nodeId: 'old', live: false })], T0)
    assert.deepEqual(reinstalled.map(n => [n.nodeId, n.problems]), [['new', []], ['old', ['down']]])
  })
})

describe('ClusterView', () => {
  it('knows a name only once a beacon told one (the history keeps no id where a name belongs)', () => {
    const view = new ClusterView('mx1', () => T0)
    assert.equal(view.knownName('12D3KooWpeer'), undefined)
    view.heardFrom('12D3KooWpeer', 'mx2', '0.2.0', healthRecord(QUIET, T0))
    view.heardFrom('12D3KooWold', '', '0.0.9', undefined)
    assert.equal(view.knownName('12D3KooWpeer'), 'mx2')
    assert.equal(view.knownName('12D3KooWold'), undefined)
  })

  it('names a peer by its beacon, by its id before or without one, and counts its own lag on the given clock', () => {
    let now = T0
    const view = new ClusterView('mx1', () => now)
    assert.equal(view.nameOf('12D3KooWpeer'), '12D3KooWpeer')
    view.heardFrom('12D3KooWpeer', 'mx2', '0.1.0', healthRecord(QUIET, now))
    view.heardFrom('12D3KooWold', '', '0.0.9', undefined)
    assert.equal(view.nameOf('12D3KooWpeer'), 'mx2')
    assert.equal(view.nameOf('12D3KooWold'), '12D3KooWold')
    const self: SelfSeen = { nodeId: '12D3KooWself', role: 'slave', agentVersion: '0.1.0', version: { term: 1, seq: 1 }, appliedVersion: { term: 1, seq: 1 }, inputs: QUIET }
    const members = [{ nodeId: '12D3KooWpeer', role: 'master', live: true, lastSeen: now, version: { term: 1, seq: 3 }, appliedVersion: { term: 1, seq: 3 } }]
    assert.equal(view.ownHealth(self, members).lagMs, 0)
    now += 30_000
    const table = view.table(self, members)
    assert.deepEqual(table.map(n => [n.name, n.self, n.lagVersions, n.lagSeconds]), [['mx1', true, 2, 30], ['mx2', false, 0, 0]])
  })
})
