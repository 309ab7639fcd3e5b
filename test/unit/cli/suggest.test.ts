/** The nearest-name suggestion used for mistyped commands, flags and config keys. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { didYouMean, editDistance, nearest } from '../../../src/suggest.js'
import { programOf } from '../../../src/cli/checks.js'

test('edit distance counts inserts, deletes and substitutions', () => {
  assert.equal(editDistance('', 'abc'), 3)
  assert.equal(editDistance('listn', 'listen'), 1)
  assert.equal(editDistance('htpPort', 'httpPort'), 1)
  assert.equal(editDistance('kitten', 'sitting'), 3)
  assert.equal(editDistance('ABC', 'abc'), 0)
})

test('the nearest candidate within a third of the word, else none', () => {
  assert.equal(nearest('setingsDir', ['dataDir', 'settingsDir']), 'settingsDir')
  assert.equal(nearest('zzzzzz', ['dataDir', 'settingsDir']), null)
  assert.equal(didYouMean('stat', ['start', 'status']), ' (did you mean start?)')
  assert.equal(didYouMean('qqqq', ['start']), '')
})

test('the program a command line starts with', () => {
  assert.equal(programOf('sa-learn --backup > x'), 'sa-learn')
  assert.equal(programOf('LANG=C HOME=/x ./hook.sh a'), './hook.sh')
  assert.equal(programOf('"/opt/my tool"'), '/opt/my tool')
  assert.equal(programOf('cd /x && postmap y'), null)
})
