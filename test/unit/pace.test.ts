import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { pacer } from '../../src/pace.js'

/** Resolves true once an immediate queued now has run. */
function immediateRan (): () => boolean {
  let ran = false
  setImmediate(() => { ran = true })
  return () => ran
}

describe('pacer', () => {
  test('turns the event loop once its slice of work has run out', async () => {
    let now = 0
    const pause = pacer(50, () => now)
    now = 50
    const ran = immediateRan()
    await pause()
    assert.equal(ran(), true)
  })

  test('goes on without a turn inside its slice, which a turn starts again', async () => {
    let now = 0
    const pause = pacer(50, () => now)
    now = 49
    const first = immediateRan()
    await pause()
    assert.equal(first(), false, 'within the slice: no turn')
    now = 60
    await pause()
    assert.equal(first(), true)
    now = 100
    const second = immediateRan()
    await pause()
    assert.equal(second(), false, 'the turn at 60 started a new slice')
  })
})
