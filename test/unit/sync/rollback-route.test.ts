import { test } from 'node:test'
import assert from 'node:assert/strict'
import { routeRollback } from '../../../src/sync/rollback-route.js'
import { NoMasterError } from '../../../src/errors.js'
import type { RoleView } from '../../../src/sync/engine.js'
import type { Version } from '../../../src/version.js'
import type { RollbackOutcome } from '../../../src/archive/change-summary.js'

const made = (seq: number | null): RollbackOutcome => ({ version: seq === null ? null : { term: 1, seq }, lists: {} })

function route (roles: RoleView): { calls: string[], logged: number, run: (v: Version, dryRun?: boolean) => Promise<RollbackOutcome> } {
  const calls: string[] = []
  const out = { calls, logged: 0, run: async (v: Version, dryRun?: boolean) => await routeRollback(parts, v, dryRun) }
  const parts = {
    roles,
    local: async (v: Version, dry: boolean) => { calls.push(`local ${v.seq}${dry ? ' dry' : ''}`); return made(dry ? null : 9) },
    forward: async (masterId: string, v: Version, dry: boolean) => { calls.push(`forward ${masterId} ${v.seq}${dry ? ' dry' : ''}`); return made(dry ? null : 8) },
    log: { info: () => { out.logged++ } }
  }
  return out
}

test('the master rolls back itself', async () => {
  const r = route({ role: 'master', masterId: 'me', term: 1 })
  assert.deepEqual(await r.run({ term: 1, seq: 3 }), made(9))
  assert.deepEqual(r.calls, ['local 3'])
  assert.equal(r.logged, 1)
})

test('a slave forwards the rollback to its master', async () => {
  const r = route({ role: 'slave', masterId: 'm1', term: 1 })
  assert.deepEqual(await r.run({ term: 1, seq: 3 }), made(8))
  assert.deepEqual(r.calls, ['forward m1 3'])
})

test('a dry run is routed as a dry run and logs no rollback', async () => {
  const master = route({ role: 'master', masterId: 'me', term: 1 })
  assert.deepEqual(await master.run({ term: 1, seq: 3 }, true), made(null))
  const slave = route({ role: 'slave', masterId: 'm1', term: 1 })
  assert.deepEqual(await slave.run({ term: 1, seq: 3 }, true), made(null))
  assert.deepEqual([...master.calls, ...slave.calls], ['local 3 dry', 'forward m1 3 dry'])
  assert.equal(master.logged + slave.logged, 0)
})

test('a node that knows no master refuses with NoMasterError and runs nothing', async () => {
  const r = route({ role: 'candidate', masterId: null, term: 1 })
  await assert.rejects(r.run({ term: 1, seq: 3 }), NoMasterError)
  assert.deepEqual(r.calls, [])
})
