/** SettingsFolder over many one-line edits: what a scan's parse holds does not keep the texts before it alive. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { openLocalState } from '../../../src/local-state.js'

test('one-line edits scanned one after another keep no earlier text of the file alive', async (t) => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const root = await mkdtemp(join(tmpdir(), 'spamsync-folder-retain-'))
  const dir = join(root, 'settings')
  const state = await openLocalState({ dataDir: join(root, 'data'), settingsDir: dir, maxSkewMs: 60_000 })
  t.after(async () => {
    await state.close()
    await rm(root, { recursive: true, force: true })
  })
  const text = Array.from({ length: 100_000 }, (_, i) => `line-${i}.example\n`).join('')
  await writeFile(join(dir, 'blacklist.txt'), text)
  await state.folder.scan()
  await appendFile(join(dir, 'blacklist.txt'), 'first-added.example\n')
  await state.folder.scan()
  gc()
  const before = getHeapStatistics().used_heap_size + getHeapStatistics().external_memory
  for (let i = 0; i < 8; i++) {
    await appendFile(join(dir, 'blacklist.txt'), `added-${i}-of-eight.example\n`)
    await state.folder.scan()
  }
  assert.equal(state.replica.get('blacklist', 'added-7-of-eight.example')?.present, true)
  gc()
  const grown = getHeapStatistics().used_heap_size + getHeapStatistics().external_memory - before
  // Each edit's keys were slices of its text and kept all of it alive: 17 MB grown here (9 texts)
  // before the keys were copied, 4.9 MB with the copies.
  assert.ok(grown < 4 * text.length, `${grown} bytes more after 8 one-line edits of a ${text.length}-character file`)
})
