/**
 * `npm run fuzz [-- --runs N] [-- --seed S]`: the fuzz suite at full size, 10,000 cases a target
 * by default: the list-file parser, the sa-learn backup parser, the settings archive reader, and
 * a hostile peer with the cluster key against three live agents (test/helpers/hostile-peer.ts).
 * Prints, per target, how many cases ended which way (accepted, refused with which named error,
 * for the hostile peer the agents' answers), and the slowest case of the parsers (a hang shows
 * there as a run that never ends); then the same as JSON. Exits 1 with fast-check's report (seed
 * and input) when a case crashes, or when an agent would have exited, outgrew the heap bound or
 * stopped converging.
 */
import { parseArgs } from 'node:util'
import { FUZZ_TARGETS, fuzz, type FuzzTarget } from '../test/helpers/fuzz-targets.js'
import { fuzzHostilePeer } from '../test/helpers/hostile-peer.js'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10000' }, seed: { type: 'string' } } })
const runs = Number(values.runs)
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed)
if (!Number.isSafeInteger(runs) || runs < 1 || !Number.isSafeInteger(seed)) {
  console.error('usage: fuzz [--runs N] [--seed S]')
  process.exit(2)
}

interface Result { target: string, cases: number, outcomes: Record<string, number>, slowestCaseMs: number, totalMs: number }

const results: Result[] = []
let failed = false
for (const target of FUZZ_TARGETS) {
  let slowest = 0
  const timed: FuzzTarget<unknown> = {
    ...target,
    run: (input) => {
      const t0 = performance.now()
      try {
        return target.run(input)
      } finally {
        slowest = Math.max(slowest, performance.now() - t0)
      }
    }
  }
  const t0 = performance.now()
  try {
    const outcomes = fuzz(timed, runs, seed)
    const totalMs = performance.now() - t0
    results.push({ target: target.name, cases: [...outcomes.values()].reduce((a, b) => a + b, 0), outcomes: Object.fromEntries([...outcomes].sort()), slowestCaseMs: Math.round(slowest * 10) / 10, totalMs: Math.round(totalMs) })
  } catch (err) {
    failed = true
    console.error(`${target.name}: FAILED\n${err instanceof Error ? err.message : String(err)}`)
  }
}

const HOSTILE = 'hostile peer (3 live agents)'
const t0 = performance.now()
try {
  const r = await fuzzHostilePeer({ runs, seed, convergeEvery: 50 })
  results.push({ target: HOSTILE, cases: r.cases, outcomes: { ...r.outcomes, 'convergence checks passed': r.convergenceChecks, 'hostile peer led and left': r.hostileLeft, 'max heap growth MiB': r.maxHeapGrowthMiB }, slowestCaseMs: NaN, totalMs: r.ms })
} catch (err) {
  failed = true
  console.error(`${HOSTILE}: FAILED after ${Math.round(performance.now() - t0)} ms\n${err instanceof Error ? err.message : String(err)}`)
}

console.log(`fuzz: ${runs} cases per target, seed ${seed}`)
console.log(['target'.padEnd(42), 'cases'.padStart(7), 'slowest ms'.padStart(11), 'total ms'.padStart(9), '  outcomes'].join(''))
for (const r of results) {
  const outcomes = Object.entries(r.outcomes).map(([k, n]) => `${k} ${n}`).join(', ')
  console.log([r.target.padEnd(42), String(r.cases).padStart(7), (Number.isNaN(r.slowestCaseMs) ? '-' : String(r.slowestCaseMs)).padStart(11), String(r.totalMs).padStart(9), `  ${outcomes}`].join(''))
}
console.log(JSON.stringify({ runs, seed, results }))
process.exit(failed ? 1 : 0)
