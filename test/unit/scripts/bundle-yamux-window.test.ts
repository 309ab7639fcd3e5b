/** The bundle's patch of yamux's window updates (scripts/bundle-yamux-window.ts): half a window at a time, and loudly when the dependency changed. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { BundlePatchError } from '../../../scripts/bundle-code-unit-sort.js'
import { EVERY_FRAME_CHECK, HALF_WINDOW_CHECK, YAMUX_STREAM_FILE, halfWindowUpdates } from '../../../scripts/bundle-yamux-window.js'

/** Whether sendWindowUpdate with `check` sends an update, given the receive window and what is left of it (the check run as the bundle runs it). */
async function sendsUpdate (check: string, recvWindow: number, recvWindowCapacity: number): Promise<boolean> {
  const source = `export function skip (flags) { ${check} return true } return false }`
  const { skip } = await import('data:text/javascript,' + encodeURIComponent(source)) as { skip: (this: object, flags: number) => boolean }
  return !skip.call({ recvWindow, recvWindowCapacity }, 0)
}

test('the installed yamux stream module holds the per-frame test exactly once', () => {
  const path = fileURLToPath(import.meta.resolve('@chainsafe/libp2p-yamux/stream'))
  assert.ok(path.replaceAll('\\', '/').endsWith('/' + YAMUX_STREAM_FILE))
  const source = readFileSync(path, 'utf8')
  const patched = halfWindowUpdates(source, YAMUX_STREAM_FILE)
  assert.ok(patched.includes(HALF_WINDOW_CHECK))
  assert.ok(!patched.includes(EVERY_FRAME_CHECK))
})

test('a stream sends no window update until half of its receive window is used', async () => {
  const window = 256 * 1024
  assert.equal(await sendsUpdate(EVERY_FRAME_CHECK, window, window - 300), true)
  assert.equal(await sendsUpdate(HALF_WINDOW_CHECK, window, window - 300), false)
  assert.equal(await sendsUpdate(HALF_WINDOW_CHECK, window, window / 2 + 1), false)
  assert.equal(await sendsUpdate(HALF_WINDOW_CHECK, window, window / 2), true)
  assert.equal(await sendsUpdate(HALF_WINDOW_CHECK, window, 0), true)
})

test('a stream module without the per-frame test, or with two, fails the build', () => {
  assert.throws(() => halfWindowUpdates('sendWindowUpdate() {}', 'x.js'), BundlePatchError)
  assert.throws(() => halfWindowUpdates(EVERY_FRAME_CHECK + EVERY_FRAME_CHECK, 'x.js'), /expected 1 of .*found 2/)
})
