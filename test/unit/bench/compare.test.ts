import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { compareRows, figuresOf, median, parseCompareArgs } from '../../../bench/compare.js'

/** A results.json as bench/run.ts writes it, cut to the fields the comparison reads. */
function results (scanMs: number, p50: number): unknown {
  return {
    local: { measures: { firstScan: { medianMs: scanMs, cpuMedianMs: scanMs / 2 }, 'exportInProcess.scan': { medianMs: 3, cpuMedianMs: null } } },
    cluster: {
      propagation: [{ nodes: 2, samples: { p50, p95: p50 * 2 } }],
      bytes: [{ list: '10k', totalSentPerReceiver: 1236, masterSentPerReceiver: 753, convergeMs: 9000, changeMs: 480 }],
      failover: { elected: { p50: 3000 }, changeOnSurvivors: { p50: 3400 }, rejoin: { p50: 6800 } }
    }
  }
}

describe('before/after benchmark comparison', () => {
  test('the median of an even count is the mean of the middle two', () => {
    assert.equal(median([4, 1, 3, 2]), 2.5)
    assert.equal(median([5, 1, 3]), 3)
    assert.ok(Number.isNaN(median([])))
  })

  test('a run gives its local medians and CPU, propagation percentiles, bytes and failover figures', () => {
    const f = figuresOf(results(1000, 200))
    assert.equal(f.get('local firstScan ms'), 1000)
    assert.equal(f.get('local firstScan cpu ms'), 500)
    assert.equal(f.has('local exportInProcess.scan cpu ms'), false)
    assert.equal(f.get('cluster propagation p95 (2 nodes) ms'), 400)
    assert.equal(f.get('cluster [10k] bytes/receiver, all sent'), 1236)
    assert.equal(f.get('cluster failover restart -> stable p50 ms'), 6800)
  })

  test('each row holds the base median, the head median and head / base', () => {
    const base = [figuresOf(results(1000, 200)), figuresOf(results(3000, 100)), figuresOf(results(2000, 300))]
    const head = [figuresOf(results(1100, 200)), figuresOf(results(2100, 200))]
    const rows = compareRows(base, head)
    assert.deepEqual(rows.find(r => r[0] === 'local firstScan ms'), ['local firstScan ms', '2000', '1600', '0.80'])
    assert.deepEqual(rows.find(r => r[0] === 'cluster propagation p50 (2 nodes) ms'), ['cluster propagation p50 (2 nodes) ms', '200', '200', '1.00'])
  })

  test('a figure only one side has shows a dash for the other and no ratio', () => {
    const base = [figuresOf(results(1000, 200))]
    const head = [new Map([['local firstScan ms', 900]])]
    assert.deepEqual(compareRows(base, head).find(r => r[0] === 'cluster [10k] one-line change on all ms'), ['cluster [10k] one-line change on all ms', '480', '-', '-'])
  })

  test('the command line needs files on both sides', () => {
    assert.deepEqual(parseCompareArgs(['--base', 'a.json', 'b.json', '--head', 'c.json']), { base: ['a.json', 'b.json'], head: ['c.json'] })
    assert.throws(() => parseCompareArgs(['--base', 'a.json']), /both sides/)
    assert.throws(() => parseCompareArgs(['a.json']), /usage/)
  })
})
