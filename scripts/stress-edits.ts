/**
 * `npm run stress:edits [-- --seconds N]`: the operator-edit race of issue 13 item 1 at length
 * (default 120 s; `npm test` runs 15 s of it): a slave applies the master's changes every 60 ms
 * while another process appends a line to its list file every 23 ms. Prints what was appended
 * and lost as a line and as JSON; exits 1 when a line was lost on either node.
 */
import { parseArgs } from 'node:util'
import { runEditRace } from '../test/helpers/edit-race.js'

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '120' } } })
const seconds = Number(values.seconds)
if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > 86400) {
  console.error('usage: stress:edits [--seconds N]')
  process.exit(2)
}
const r = await runEditRace({ durationMs: seconds * 1000, appendEveryMs: 23, masterEveryMs: 60, settleMs: 60_000 })
console.log(`edit race, ${seconds} s: ${r.appended} lines appended to the slave's file, ${r.masterEdits} master edits, ${r.versionsApplied} versions applied, ${r.lostOnSlave.length} lost on the slave, ${r.missingOnMaster.length} missing on the master`)
console.log(JSON.stringify({ seconds, appended: r.appended, masterEdits: r.masterEdits, versionsApplied: r.versionsApplied, lostOnSlave: r.lostOnSlave.length, missingOnMaster: r.missingOnMaster.length }))
process.exit(r.lostOnSlave.length === 0 && r.missingOnMaster.length === 0 ? 0 : 1)
