import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { watchFolder } from '../../../src/settings/watch.js'

/** Resolves at the first call of the returned callback. */
function firstCall (): { fn: () => void, called: Promise<void> } {
  let fn = (): void => {}
  const called = new Promise<void>(resolve => { fn = resolve })
  return { fn: () => { fn() }, called }
}

test('a write in the folder calls onChange once the debounce time has passed', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-watch-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const change = firstCall()
  const errors: unknown[] = []
  const w = watchFolder(dir, { debounceMs: 10, rescanIntervalMs: 0, onError: (err) => { errors.push(err) } }, change.fn)
  t.after(() => { w.close() })
  await writeFile(join(dir, 'blacklist.txt'), 'a.example\n')
  await change.called
  assert.deepEqual(errors, [])
})

test('a watcher that cannot start is reported, and the rescan still finds changes', async () => {
  const missing = join(tmpdir(), `spamsync-watch-missing-${process.pid}-${Date.now()}`)
  const change = firstCall()
  const errors: unknown[] = []
  const w = watchFolder(missing, { debounceMs: 1, rescanIntervalMs: 5, onError: (err) => { errors.push(err) } }, change.fn)
  try {
    await change.called
    assert.equal(errors.length, 1)
    assert.match(String((errors[0] as NodeJS.ErrnoException).code), /ENOENT/)
  } finally {
    w.close()
  }
})
