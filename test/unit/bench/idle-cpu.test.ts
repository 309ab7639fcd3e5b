import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { cpuByRole } from '../../../bench/idle-cpu.js'

describe('idle CPU bench', () => {
  test('CPU is split by each agent\'s role in its own run, the master of one run apart from the slaves of both', () => {
    const byRole = cpuByRole([
      { roles: ['master', 'slave', 'slave'], cpuPercent: [0.5, 0.3, 0.2] },
      { roles: ['slave', 'master', 'slave'], cpuPercent: [0.25, 0.6, 0.35] }
    ])
    assert.deepEqual(byRole, {
      master: { p50: 0.5, min: 0.5, max: 0.6 },
      slave: { p50: 0.25, min: 0.2, max: 0.35 }
    })
  })
})
