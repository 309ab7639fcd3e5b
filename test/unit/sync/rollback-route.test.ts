import { test } from 'node:test'
import assert from 'node:assert/strict'
import { routeRollback } from '../../../src/sync/rollback-route.js'
import { NoMasterError } from '../../../src/errors.js'
import type { RoleView } from '../../../src/sync/engine.js'
import type { Version } from '../../../src/version.js'

function route (roles: RoleView): { calls: string[], run: (v: Version) => Promise<Version> } {
  const calls: string[] = []
  const parts = {
    roles,
    local: async (v: Version) => { calls.push(`local ${v.seq}`); return { term: 1, seq: 9 } },
    forward: async (masterId: string, v: Version) => { calls.push(`forward ${masterId} ${v.seq}`); return { term: 1, seq: 8 } },
    log: { info: () => {} }
  }
  return { calls, run: async (v) => await routeRollback(parts, v) }
}

test('the master rolls back itself', async () => {
  const r = route({ role: 'master', masterId: 'me', term: 1 })
  assert.deepEqual(await r.run({ term: 1, seq: 3 }), { term: 1, seq: 9 })
  assert.deepEqual(r.calls, ['local 3'])
})

test('a slave forwards the rollback to its master', async () => {
  const r = route({ role: 'slave', masterId: 'm1', term: 1 })
  assert.deepEqual(await r.run({ term: 1, seq: 3 }), { term: 1, seq: 8 })
  assert.deepEqual(r.calls, ['forward m1 3'])
})

test('a node that knows no master refuses with NoMasterError and runs nothing', async () => {
  const r = route({ role: 'candidate', masterId: null, term: 1 })
  await assert.rejects(r.run({ term: 1, seq: 3 }), NoMasterError)
  assert.deepEqual(r.calls, [])
})
