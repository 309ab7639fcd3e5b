/** `spamsync status` text: the cluster first, by name; an agent from before the cluster view still prints. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatStatus } from '../../../src/cli/commands/status.js'
import { clusterTable, healthRecord } from '../../../src/cluster/health.js'
import type { ReceivedStatus } from '../../../src/http/status-document.js'

const T0 = Date.parse('2026-12-06T04:00:00.000Z')

/** A status document as an agent before names and the cluster view answered it. */
const OLD: ReceivedStatus = {
  nodeId: '12D3KooWself', agentVersion: '0.0.9', protocolVersion: 1, role: 'slave', term: 2, masterId: '12D3KooWmaster',
  version: { term: 2, seq: 3 }, appliedVersion: { term: 2, seq: 3 }, clockOffsetMs: null, bytesSent: 0, bytesReceived: 0,
  lastUpload: null, lastDownload: null, datasets: {}, outputs: [], errors: [], warnings: [],
  peers: [{ id: '12D3KooWmaster', role: 'master', appliedVersion: { term: 2, seq: 3 }, agentVersion: '0.0.9', compatible: true, reason: null, lastSeen: new Date(T0).toISOString() }]
}

test('an agent from before the cluster view: the detail as before, peers by id', () => {
  const text = formatStatus(OLD)
  assert.match(text.split('\n')[0], /^node +12D3KooWself$/)
  assert.match(text, /^role +slave \(term 2, master 12D3KooWmaster\)$/m)
  assert.match(text, /^12D3KooWmaster +master /m)
})

test('the cluster first: summary, one line per node with lag and problems, the master by name', () => {
  const quiet = healthRecord({ lastUpload: null, lastDownload: null, errors: [], invalid: {}, outputs: [], hooks: null, lagMs: 0, startedAtMs: T0 }, T0)
  const base = { role: 'slave', live: true, lastSeenMs: T0, agentVersion: '0.1.0', version: { term: 2, seq: 3 }, health: quiet }
  const cluster = clusterTable([
    { ...base, nodeId: '12D3KooWself', name: 'mx2', self: true, appliedVersion: { term: 2, seq: 1 }, health: { ...quiet, lagMs: 42_000, hooksFailing: true } },
    { ...base, nodeId: '12D3KooWmaster', name: 'mx1', self: false, role: 'master', appliedVersion: { term: 2, seq: 3 } }
  ], T0)
  const text = formatStatus({ ...OLD, name: 'mx2', cluster, peers: OLD.peers.map(p => ({ ...p, name: 'mx1' })) }, T0)
  const lines = text.split('\n')
  assert.equal(lines[0], '2 nodes: mx2 is 2 versions behind: hook failed')
  assert.match(lines[3], /^mx2 \* +slave +2\.1 +2 \(42s\) +- +2 versions behind, hook failed$/)
  assert.match(lines[4], /^mx1 +master +2\.3 +0 +- +-$/)
  assert.match(text, /^node +mx2 \(id 12D3KooWself\)$/m)
  assert.match(text, /^role +slave \(term 2, master mx1\)$/m)
  assert.match(text, /^mx1 +master .* 12D3KooWmaster$/m)
})

test('times are seconds before the time the status is formatted at, not the clock of the test run', () => {
  assert.match(formatStatus(OLD, T0 + 42_000), /^12D3KooWmaster +master +2\.3 +0\.0\.9 +yes +42s ago +12D3KooWmaster$/m)
})

test('a value wider than its column is still followed by a space', () => {
  // A peer last seen more than a day ago: "105590s ago" is wider than the LAST SEEN column.
  assert.match(formatStatus(OLD, T0 + 105_590_000), /^12D3KooWmaster +master .* 105590s ago 12D3KooWmaster$/m)
})

test('the tombstone floor: the time before which deletes are forgotten, or that none is yet; no line from an agent without the field', () => {
  assert.match(formatStatus({ ...OLD, tombstoneFloor: '2026-12-06T03:00:00.000Z' }), /^deletes +forgotten when stamped before 2026-12-06T03:00:00\.000Z \(tombstone floor\)$/m)
  assert.match(formatStatus({ ...OLD, tombstoneFloor: null }), /^deletes +all kept \(no tombstone floor yet\)$/m)
  assert.doesNotMatch(formatStatus(OLD), /^deletes/m)
})
