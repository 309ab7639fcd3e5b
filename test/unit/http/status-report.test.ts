import { test } from 'node:test'
import assert from 'node:assert/strict'
import { StatusReport, type StatusParts } from '../../../src/http/status-report.js'
import { ClusterView } from '../../../src/cluster/health.js'
import { TrafficCounter } from '../../../src/protocol/traffic.js'
import { TransferProgress } from '../../../src/protocol/transfer-progress.js'
import { LIST_DATASETS } from '../../../src/constants.js'
import type { MemberView } from '../../../src/election/state.js'
import type { InvalidReport } from '../../../src/settings/list-file.js'

const T0 = Date.parse('2026-12-06T04:00:00.000Z')
const V = { term: 2, seq: 3 }
const none: InvalidReport = { invalidCount: 0, invalidLines: [] }
const member: MemberView = { nodeId: 'm', priority: 0, pin: 'auto', role: 'master', term: 2, masterId: 'm', version: V, appliedVersion: V, lastSeen: T0 - 1000, live: true }

function report (): StatusReport {
  const parts: StatusParts = {
    nodeId: 'me',
    election: { role: 'slave', masterId: 'm', term: 2, members: () => [member] },
    engine: { version: V, appliedVersion: V, errors: [], lastUpload: null, lastDownload: null, fullArchive: null, bayesTokens: 7, bayesFileStatus: () => none, tombstones: { floor: T0 - 3_600_000 } },
    replica: { presentCount: () => 4 },
    folder: { invalid: new Map(LIST_DATASETS.map(ds => [ds, none])), problem: (ds) => ds === 'blacklist' ? 'too large' : undefined },
    bayes: { contributorCount: 0 },
    peers: {
      ids: () => ['down'],
      info: () => undefined,
      lastDialError: (id) => id === 'down' ? { time: new Date(T0).toISOString(), message: 'refused' } : null,
      connected: (id) => id === 'm'
    },
    cluster: new ClusterView('mx-me', () => T0),
    skews: { offsetOf: (id) => id === 'm' ? 12 : null, ownOffsetMs: -12 },
    listen: () => ['/ip4/127.0.0.1/tcp/1'],
    traffic: new TrafficCounter(),
    transfer: new TransferProgress(),
    outputs: null,
    afterApply: null,
    warnings: () => ['the cluster key k is open'],
    startedAtMs: T0 - 60_000,
    now: () => T0
  }
  return new StatusReport(parts)
}

test('peers are the election\'s members and the peers known by a failed dial, sorted by id', () => {
  const s = report().status()
  assert.deepEqual(s.peers.map(p => [p.id, p.role, p.live, p.connected, p.clockOffsetMs, p.lastDialError?.message ?? null]), [
    ['down', 'unknown', false, false, null, 'refused'],
    ['m', 'master', true, true, 12, null]
  ])
})

test('every list dataset and bayes are reported, with a file\'s problem', () => {
  const s = report().status()
  assert.deepEqual(Object.keys(s.datasets).sort(), [...LIST_DATASETS, 'bayes'].sort())
  assert.equal(s.datasets.blacklist.fileError, 'too large')
  assert.equal(s.datasets.blacklist.entries, 4)
  assert.equal(s.datasets.bayes.entries, 7)
})

test('this node heads the cluster view; role, clock, warnings and uptime are its own', () => {
  const s = report().status()
  assert.equal(s.cluster[0].self, true)
  assert.equal(s.cluster[0].name, 'mx-me')
  assert.equal(s.summary, '2 nodes, all in sync')
  assert.equal(s.role, 'slave')
  assert.equal(s.clockOffsetMs, -12)
  assert.deepEqual(s.warnings, ['the cluster key k is open'])
  assert.equal(s.uptimeSeconds, 60)
})

test('the tombstone floor is the one this node knows, as an ISO time', () => {
  assert.equal(report().status().tombstoneFloor, '2026-12-06T03:00:00.000Z')
})
