import { test } from 'node:test'
import assert from 'node:assert/strict'
import { roleChangeHandler } from '../../../src/sync/role-change.js'

function handler (becameMaster: () => Promise<void> = async () => {}): { calls: string[], changed: ReturnType<typeof roleChangeHandler> } {
  const calls: string[] = []
  const changed = roleChangeHandler({
    log: { info: () => {} },
    nameOf: (id) => `name-${id}`,
    clock: { lead: () => { calls.push('lead') } },
    engine: { becameMaster: async () => { calls.push('becameMaster'); await becameMaster() }, followMaster: () => { calls.push('followMaster') } },
    report: (what, err) => { calls.push(`report ${what}: ${(err as Error).message}`) }
  })
  return { calls, changed }
}

test('a new master leads cluster time, then cuts its first version', () => {
  const h = handler()
  h.changed('master', 'me', 2)
  assert.deepEqual(h.calls, ['lead', 'becameMaster'])
})

test('a new slave follows its master', () => {
  const h = handler()
  h.changed('slave', 'm', 2)
  assert.deepEqual(h.calls, ['followMaster'])
})

test('a candidate does nothing yet', () => {
  const h = handler()
  h.changed('candidate', null, 2)
  assert.deepEqual(h.calls, [])
})

test('a failed becameMaster goes to the error log', async () => {
  const h = handler(async () => { throw new Error('disk full') })
  h.changed('master', 'me', 2)
  await new Promise(resolve => setImmediate(resolve))
  assert.deepEqual(h.calls, ['lead', 'becameMaster', 'report become master: disk full'])
})
