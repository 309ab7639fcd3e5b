import { afterEach, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { resolveKey, resolveKeys, resolveLists, type ResolvedKey } from '../../../src/outputs/lists.js'
import { lineFormat, renderOutput, OUTPUT_FORMATS, type OutputFormat } from '../../../src/outputs/formats.js'
import { LineTable, type KeyChange } from '../../../src/outputs/table.js'
import { OutputRunner } from '../../../src/outputs/runner.js'
import { LIST_DATASETS, type ListDataset } from '../../../src/constants.js'
import { normaliseKey } from '../../../src/settings/list-key.js'
import { MemoryLists } from './memory-lists.js'

// Few keys, so that changes hit keys already listed, in other lists too (precedence, conflicts).
const keyArb = fc.constantFrom('joe@example.com', 'x#y@bad.example', 'a*b@example.com', 'ü@example.com', 'example.com',
  'sub.example.org', '*.spam.example', '*.example.com', '192.0.2.1', '10.0.0.0/8', '10.1.0.0/16', '2001:db8::/32',
  '2001:db8::1', '::ffff:192.0.2.7', 'spam@spam.example', 'b@example.com').map(k => normaliseKey(k))

const valueArb = fc.constantFrom('', 'OK', 'REJECT go away', 'trusted', '550 5.7.1 no', 'DUNNO')

/** One change to a list: a new VALUE, or (null) a delete. */
const opArb = fc.tuple(fc.constantFrom(...LIST_DATASETS), keyArb, fc.option(valueArb, { freq: 4 }))

/** Lists at start, then batches of changes (a batch is what one pass sees). */
const historyArb = fc.record({
  start: fc.array(opArb, { maxLength: 20 }),
  batches: fc.array(fc.array(opArb, { minLength: 1, maxLength: 8 }), { maxLength: 6 })
})

function fullRender (lists: MemoryLists, format: OutputFormat, datasets: ListDataset[]): ReturnType<typeof renderOutput> {
  return renderOutput(format, resolveLists({ whitelist: lists.entries('whitelist'), blacklist: lists.entries('blacklist'), autowhitelist: lists.entries('autowhitelist') }), datasets)
}

describe('line table', () => {
  test('any changes applied to a table give exactly the bytes and counts of a full render of the final lists', async () => {
    await fc.assert(fc.asyncProperty(
      historyArb,
      fc.constantFrom(...OUTPUT_FORMATS),
      fc.subarray([...LIST_DATASETS], { minLength: 1 }),
      // Tiny blocks and resort limits, so that splits, emptied blocks and both update paths run.
      fc.record({ blockLines: fc.integer({ min: 1, max: 4 }), resortAbove: fc.integer({ min: 0, max: 6 }) }),
      async ({ start, batches }, format, datasets, shape) => {
        const lists = new MemoryLists()
        for (const [ds, key, value] of start) lists.set(ds, key, value)
        const keys = resolveKeys({ whitelist: lists.entries('whitelist'), blacklist: lists.entries('blacklist'), autowhitelist: lists.entries('autowhitelist') })
        const resolved = new Map<string, ResolvedKey>(keys.map(k => [k.key, k]))
        const table = new LineTable(lineFormat(format, datasets), datasets, shape)
        table.fill(keys)
        let seq = lists.changeSeq
        for (const batch of batches) {
          const before = fullRender(lists, format, datasets).text
          for (const [ds, key, value] of batch) lists.set(ds, key, value)
          const changed = new Set<string>()
          for (const ds of LIST_DATASETS) for (const e of await lists.changedSince(ds, seq)) changed.add(e.key)
          seq = lists.changeSeq
          const changes: KeyChange[] = []
          for (const key of changed) {
            const after = resolveKey(key, ds => lists.get(ds, key))
            changes.push({ key, before: resolved.get(key), after })
            if (after === undefined) resolved.delete(key)
            else resolved.set(key, after)
          }
          const moved = table.update(changes)
          const full = fullRender(lists, format, datasets)
          assert.equal(table.text(), full.text)
          assert.deepEqual(table.counts(), { written: full.written, leftOut: full.leftOut, conflicts: full.conflicts })
          // update() tells whether the bytes changed, so an unchanged output is not compared or written.
          assert.equal(moved, full.text !== before)
        }
      }
    ), { numRuns: 300 })
  })
})

describe('output runner, incremental', () => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'spamsync-table-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  test('after any changes every output file holds exactly the bytes of a full render, and only changed files are written', async () => {
    let run = 0
    await fc.assert(fc.asyncProperty(historyArb, async ({ start, batches }) => {
      const lists = new MemoryLists()
      for (const [ds, key, value] of start) lists.set(ds, key, value)
      const outputs = OUTPUT_FORMATS.map(format => ({ format, datasets: [...LIST_DATASETS], path: join(dir, `${run}`, format), command: '' }))
      run++
      const written: string[] = []
      const runner = new OutputRunner({ outputs, lists, timeoutMs: 1000, report: (what, err) => { throw new Error(`${what}: ${String(err)}`) }, onWritten: (spec) => { written.push(spec.format) } })
      runner.changed()
      await runner.idle()
      for (const batch of batches) {
        const before = new Map(OUTPUT_FORMATS.map(f => [f, fullRender(lists, f, [...LIST_DATASETS]).text]))
        for (const [ds, key, value] of batch) lists.set(ds, key, value)
        written.length = 0
        runner.changed()
        await runner.idle()
        for (const [i, f] of OUTPUT_FORMATS.entries()) {
          const full = fullRender(lists, f, [...LIST_DATASETS])
          assert.equal(await readFile(outputs[i].path, 'utf8'), full.text)
          assert.equal(written.includes(f), full.text !== before.get(f), f)
          assert.equal(runner.status()[i].entries, full.written)
          assert.deepEqual(runner.status()[i].leftOut, full.leftOut)
        }
      }
      runner.stop()
    }), { numRuns: 25 })
  })
})
