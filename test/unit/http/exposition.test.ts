/** The Prometheus text format that `GET /metrics` writes (src/http/exposition.ts). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Counter, Gauge, Histogram } from '../../../src/http/exposition.js'

test('a family without labels has its one series at 0 before it is set', () => {
  assert.equal(new Gauge('g', 'A gauge').text(), '# HELP g A gauge\n# TYPE g gauge\ng 0\n')
  assert.equal(new Counter('c_total', 'A counter').text(), '# HELP c_total A counter\n# TYPE c_total counter\nc_total 0\n')
})

test('a labelled family writes only the series that were set, and reset forgets them', () => {
  const g = new Gauge('g', 'help', ['dataset'])
  assert.equal(g.text(), '# HELP g help\n# TYPE g gauge\n')
  g.set({ dataset: 'blacklist' }, 3)
  assert.match(g.text(), /^g\{dataset="blacklist"\} 3$/m)
  g.reset()
  assert.doesNotMatch(g.text(), /^g\{/m)
})

test('label values and help are escaped as the format says', () => {
  const g = new Gauge('g', 'two\nlines \\', ['name'])
  g.set({ name: 'a "b"\\c\nd' }, 1)
  assert.equal(g.text(), '# HELP g two\\nlines \\\\\n# TYPE g gauge\ng{name="a \\"b\\"\\\\c\\nd"} 1\n')
})

test('a counter adds up per label set', () => {
  const c = new Counter('errors_total', 'help', ['what'])
  c.inc({ what: 'hook' })
  c.inc({ what: 'hook' }, 2)
  c.inc({ what: 'scan' })
  assert.match(c.text(), /^errors_total\{what="hook"\} 3$/m)
  assert.match(c.text(), /^errors_total\{what="scan"\} 1$/m)
})

test('a histogram writes cumulative buckets, +Inf, sum and count', () => {
  const h = new Histogram('d_seconds', 'help', [0.1, 1], ['direction'])
  h.zero({ direction: 'upload' })
  h.observe({ direction: 'download' }, 0.05)
  h.observe({ direction: 'download' }, 0.5)
  h.observe({ direction: 'download' }, 5)
  assert.equal(h.text(), [
    '# HELP d_seconds help',
    '# TYPE d_seconds histogram',
    'd_seconds_bucket{direction="upload",le="0.1"} 0',
    'd_seconds_bucket{direction="upload",le="1"} 0',
    'd_seconds_bucket{direction="upload",le="+Inf"} 0',
    'd_seconds_sum{direction="upload"} 0',
    'd_seconds_count{direction="upload"} 0',
    'd_seconds_bucket{direction="download",le="0.1"} 1',
    'd_seconds_bucket{direction="download",le="1"} 2',
    'd_seconds_bucket{direction="download",le="+Inf"} 3',
    'd_seconds_sum{direction="download"} 5.55',
    'd_seconds_count{direction="download"} 3',
    ''
  ].join('\n'))
})

test('a histogram without labels has its series from the start', () => {
  assert.match(new Histogram('m_seconds', 'help', [1]).text(), /^m_seconds_count 0$/m)
})
