/** `spamsync sync` progress lines: shown only after one second, one line per change. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ProgressPrinter } from '../../../src/cli/progress.js'

test('prints nothing during the first second, then bytes done of total', () => {
  let now = 10_000
  const out: string[] = []
  const p = new ProgressPrinter((t) => { out.push(t) }, () => now)
  const t = { direction: 'download' as const, bytesDone: 100, bytesTotal: 1000 }
  p.report(t)
  now += 999
  p.report(t)
  assert.deepEqual(out, [])
  now += 1
  p.report(t)
  assert.deepEqual(out, ['transferring (download): 100 of 1000 bytes\n'])
})

test('repeats no unchanged line and ignores samples without a transfer', () => {
  let now = 0
  const out: string[] = []
  const p = new ProgressPrinter((t) => { out.push(t) }, () => now)
  now = 1500
  p.report(null)
  p.report(undefined)
  p.report({ direction: 'upload', bytesDone: 1, bytesTotal: 2 })
  p.report({ direction: 'upload', bytesDone: 1, bytesTotal: 2 })
  p.report({ direction: 'upload', bytesDone: 2, bytesTotal: 2 })
  assert.deepEqual(out, ['transferring (upload): 1 of 2 bytes\n', 'transferring (upload): 2 of 2 bytes\n'])
})
