/**
 * A share of the fuzz suite in `npm test` (the full 10,000 cases a target: `npm run fuzz`): the
 * list-file parser, the sa-learn backup parser and the archive reader never crash or hang, and
 * every refusal is a named error of the project. fast-check prints the seed of a failing run.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FUZZ_TARGETS, fuzz } from '../../helpers/fuzz-targets.js'

/** Cases per target here; the script runs far more. */
const RUNS = 300

for (const target of FUZZ_TARGETS) {
  test(`${target.name}: ${RUNS} generated inputs are accepted or refused with a named error`, () => {
    const outcomes = fuzz(target, RUNS)
    assert.equal([...outcomes.values()].reduce((a, b) => a + b, 0), RUNS)
  })
}
