import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mdTable, renderResults, type BenchResults } from '../../../bench/report.js'
import type { ClusterBenchResult, PropagationResult, Summary } from '../../../bench/cluster/types.js'
import type { SyncthingBenchResult } from '../../../bench/syncthing/types.js'

const summary = (p50: number): Summary => ({ n: 10, p50, p95: p50 * 2, max: p50 * 3, min: p50 / 2 })

function results (extra: Partial<BenchResults> = {}): BenchResults {
  return {
    machine: {
      date: '2026-11-28T03:00:00.000Z',
      hostname: 'bench-host',
      platform: 'linux-x64',
      cpuModel: 'Test CPU @ 2.0GHz',
      cpus: 2,
      totalMemMB: 24105,
      node: 'v24.21.0',
      loadBefore: [0.5, 0.4, 0.3],
      loadAfter: [1.5, 1, 0.5]
    },
    quick: false,
    wallSeconds: 1234,
    plan: {},
    errors: {},
    ...extra
  }
}

function propagation (nodes: number, p50: number): PropagationResult {
  return {
    nodes,
    trials: 10,
    startMs: 1,
    stableMs: 1,
    samples: summary(p50),
    perTrialMax: summary(p50),
    fromMaster: summary(p50),
    fromSlave: summary(p50),
    timeouts: 0,
    missingAtEnd: [],
    masterChanges: 0,
    toMaster: summary(p50),
    load: { loadavgStart: 0.5, loadavgEnd: 0.7, agentCpuSeconds: null, agentCores: null, benchCpuSeconds: 0, wallSeconds: 1 },
    trialDetail: []
  }
}

describe('RESULTS.md renderer', () => {
  test('starts with the machine and the date of the run', () => {
    const md = renderResults(results())
    assert.match(md, /^# Benchmark results/)
    assert.match(md, /2026-11-28T03:00:00\.000Z/)
    assert.match(md, /\| CPU \| 2 x Test CPU @ 2\.0GHz \|/)
    assert.match(md, /\| RAM \| 23\.5 GiB \|/)
    assert.match(md, /\| Node\.js \| v24\.21\.0 \|/)
    assert.match(md, /\| load 1\/5\/15 min after \| 1\.50 \/ 1\.00 \/ 0\.50 \|/)
  })

  test('a quick run says it is not the reference numbers', () => {
    assert.match(renderResults(results({ quick: true })), /--quick.*not the reference numbers/)
  })

  test('each cluster size is one row of the propagation table', () => {
    const cluster: ClusterBenchResult = { bench: 'cluster', node: 'v24', platform: 'linux-x64', cpus: 2, seed: 1, wallMs: 1, errors: {}, propagation: [propagation(2, 100), propagation(20, 400)] }
    const md = renderResults(results({ cluster }))
    assert.match(md, /\| 2 \| 100 ms \| 200 ms \| 300 ms \| 10 \| 0 \| 0 \| 0\.5 -> 0\.7 \|/)
    assert.match(md, /\| 20 \| 400 ms \| 800 ms \| 1200 ms \|/)
  })

  test('a skipped syncthing comparison shows its reason and spamsync still has numbers', () => {
    const syncthing: SyncthingBenchResult = {
      bench: 'syncthing',
      node: 'v24',
      cpus: 2,
      list: '121k',
      listSource: 'disposable-email-domains',
      domains: 121570,
      listBytes: 1852244,
      reps: 10,
      pollMs: 10,
      loadAvg: { start: 1, end: 1 },
      wallMs: 1,
      loopbackCheck: null,
      syncthing: { skipped: 'syncthing is not installed and scripts/install-syncthing.sh failed: needs root' },
      spamsync: {
        tool: 'spamsync',
        version: '0.1.0',
        nodes: 3,
        initialSyncMs: 5000,
        propagation: summary(250),
        perRepMax: summary(300),
        samplesMs: [],
        timeouts: 0,
        appBytesPerReceiver: summary(1180),
        appBytesSamples: [],
        appBytesMethod: 'bytesSent',
        tcpBytesPerReceiver: null,
        tcpBytesSamples: [],
        tcpSocketsClosed: 0
      }
    }
    const md = renderResults(results({ syncthing }))
    assert.match(md, /skipped: syncthing is not installed and scripts\/install-syncthing\.sh failed: needs root/)
    assert.match(md, /\| one-line change p50 \| skipped \| 250 ms \|/)
    assert.match(md, /\| bytes\/receiver p50, own counters \| skipped \| 1180 B \|/)
  })

  test('a benchmark without a table of its own is shown by its numbers', () => {
    const md = renderResults(results({ other: { extra: { nodes: 10, master: { on: 3.1, off: 9 } } } }))
    assert.match(md, /## extra/)
    assert.match(md, /\| master\.on \| 3\.1 \|/)
    assert.match(md, /\| master\.off \| 9 \|/)
  })

  test('fan-out is a table of master bytes out, on and off, in archives', () => {
    const side = (fanOut: boolean, bytes: number, archives: number): object => ({ fanOut, runs: 3, masterServedBytes: bytes, masterArchives: archives, allHaveMs: 24000, startedMs: 9000, fromSlaves: fanOut ? 7 : 0, allIdentical: true })
    const fanout = { nodes: 10, reps: 3, domains: 121570, on: side(true, 2000, 2), off: side(false, 9000, 9), runs: [{ archiveBytes: 1000 }] }
    const md = renderResults(results({ other: { fanout } }))
    assert.match(md, /## Fan-out: master bytes out/)
    assert.match(md, /\| on \| 2000 B \| 2 \(2\.00x\) \| 7 \| 24000 ms \| yes \|/)
    assert.match(md, /\| off \| 9000 B \| 9 \(9\.00x\) \| 0 \| 24000 ms \| yes \|/)
  })

  test('a failed benchmark is listed with the first line of its error', () => {
    const md = renderResults(results({ errors: { 'bayes 5000000 tokens': 'Error: out of memory\n    at x' } }))
    assert.match(md, /- bayes 5000000 tokens: Error: out of memory\n/)
  })

  test('a pipe in a cell does not split the Markdown table', () => {
    assert.equal(mdTable(['a', 'b'], [['x|y', null]]), '| a | b |\n| --- | --- |\n| x\\|y | - |')
  })
})
