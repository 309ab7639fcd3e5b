/**
 * Issue 13 item 1: an operator's edit made while the agent writes the same list file is never
 * lost. Before the fix, 31 of 438 lines appended every 23 ms were lost to sync writes every ~60 ms.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runEditRace } from '../../helpers/edit-race.js'

test('no line appended to a list file is lost to the sync writes racing with it (15 s)', async () => {
  const r = await runEditRace({ durationMs: 15_000, appendEveryMs: 23, masterEveryMs: 60 })
  console.log(`edit race: ${r.appended} lines appended to the slave's file, ${r.masterEdits} master edits, ${r.versionsApplied} versions applied by the slave, ${r.lostOnSlave.length} lost on the slave, ${r.missingOnMaster.length} missing on the master`)
  // The race must have happened: the slave rewrote its file many times while lines were appended.
  assert.ok(r.versionsApplied >= 20, `only ${r.versionsApplied} versions applied`)
  assert.deepEqual(r.lostOnSlave, [])
  assert.deepEqual(r.missingOnMaster, [])
})

test('no line is lost when its append stalls between the open and the write while writes replace the file (8 s)', async () => {
  const r = await runEditRace({ durationMs: 8_000, appendEveryMs: 23, masterEveryMs: 60, appendStallMs: 150 })
  console.log(`edit race with stalled appends: ${r.appended} lines appended, ${r.versionsApplied} versions applied, ${r.lostOnSlave.length} lost on the slave, ${r.missingOnMaster.length} missing on the master`)
  assert.ok(r.versionsApplied >= 20, `only ${r.versionsApplied} versions applied`)
  assert.deepEqual(r.lostOnSlave, [])
  assert.deepEqual(r.missingOnMaster, [])
})
