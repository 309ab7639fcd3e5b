/** The change-log pruner keeps each list's log about as long as the list. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ChangeLogPruner, MIN_CHANGE_LOG_KEYS } from '../../../src/sync/change-log-pruner.js'
import { SerialQueue } from '../../../src/sync/serial-queue.js'
import type { ListDataset } from '../../../src/constants.js'

/** A pruner over a fake store whose logs grew by `growth` keys, and the prunes it asked for. */
function pruner (growth: Partial<Record<ListDataset, number>>, present: number, fail = false): { pruner: ChangeLogPruner, prunes: Array<[string, number]>, reports: unknown[], queue: SerialQueue } {
  const prunes: Array<[string, number]> = []
  const reports: unknown[] = []
  const queue = new SerialQueue()
  const p = new ChangeLogPruner({
    store: {
      changeLogGrowth: (ds) => growth[ds as ListDataset] ?? 0,
      pruneChangeLog: async (ds, keep) => {
        if (fail) throw new Error('disk full')
        prunes.push([ds, keep])
        growth[ds as ListDataset] = 0
        return 1
      }
    },
    replica: { presentCount: () => present },
    queue,
    report: (_what, err) => { reports.push(err) }
  })
  return { pruner: p, prunes, reports, queue }
}

describe('ChangeLogPruner', () => {
  test('prunes a log that grew by as many keys as the list holds, keeping that many', async () => {
    const h = pruner({ blacklist: 10_000 }, 10_000)
    h.pruner.tick()
    await h.queue.run(async () => {})
    assert.deepEqual(h.prunes, [['blacklist', 10_000]])
  })

  test('leaves a log that grew by fewer keys than it keeps', async () => {
    const h = pruner({ blacklist: 9_999 }, 10_000)
    h.pruner.tick()
    await h.queue.run(async () => {})
    assert.deepEqual(h.prunes, [])
  })

  test('keeps at least MIN_CHANGE_LOG_KEYS of a short list\'s log', async () => {
    const h = pruner({ whitelist: MIN_CHANGE_LOG_KEYS }, 3)
    h.pruner.tick()
    await h.queue.run(async () => {})
    assert.deepEqual(h.prunes, [['whitelist', MIN_CHANGE_LOG_KEYS]])
  })

  test('prunes a log never pruned by this process (its growth is unknown)', async () => {
    const h = pruner({ autowhitelist: Infinity }, 0)
    h.pruner.tick()
    await h.queue.run(async () => {})
    assert.deepEqual(h.prunes, [['autowhitelist', MIN_CHANGE_LOG_KEYS]])
  })

  test('reports a prune that failed and tries again at a later tick', async () => {
    const h = pruner({ blacklist: Infinity }, 0, true)
    h.pruner.tick()
    await h.queue.run(async () => {})
    await h.queue.run(async () => {})
    assert.equal(h.reports.length, 1)
    h.pruner.tick()
    await h.queue.run(async () => {})
    await h.queue.run(async () => {})
    assert.equal(h.reports.length, 2)
  })
})
