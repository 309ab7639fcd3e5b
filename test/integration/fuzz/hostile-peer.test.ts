/**
 * A share of the hostile-peer fuzzer in `npm test` (10,000 cases: `npm run fuzz`): a peer with
 * the cluster key sends generated beacons, uploads, fetches and control requests, and gives
 * generated answers, to three agents in this process. No agent may crash, the heap stays
 * bounded, and honest edits reach every honest node (test/helpers/hostile-peer.ts). A fresh seed
 * each run, printed; SPAMSYNC_FUZZ_SEED replays one.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fuzzHostilePeer } from '../../helpers/hostile-peer.js'

/** Cases here; the script runs far more. */
const RUNS = 300

const SEED = Number(process.env.SPAMSYNC_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))

test(`hostile peer: ${RUNS} generated cases leave every agent running, in bounded memory, converging`, { timeout: 240_000 }, async () => {
  console.log(`hostile-peer fuzz: seed ${SEED} (SPAMSYNC_FUZZ_SEED=${SEED} replays it)`)
  const result = await fuzzHostilePeer({ runs: RUNS, seed: SEED, convergeEvery: 50 })
  console.log(JSON.stringify(result))
  assert.equal(result.cases, RUNS)
  assert.equal(result.convergenceChecks, RUNS / 50 + 1)
})
