/**
 * `npm run stress:edits [-- --seconds N]`: the operator-edit race of issue 13 item 1 at length
 * (default 120 s; `npm test` runs 15 s of it): a slave applies the master's changes every 60 ms
 * while another process appends a line to its list file every 23 ms (with --stall-ms M, every
 * 7th append waits M ms between its open and its write). Prints what was appended
 * and lost as a line and as JSON; exits 1 when a line was lost on either node.
 */
import { parseArgs } from 'node:util'
import { runEditRace } from '../test/helpers/edit-race.js'

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '120' }, 'stall-ms': { type: 'string', default: '0' } } })
const seconds = Number(values.seconds)
const stallMs = Number(values['stall-ms'])
if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > 86400 || !Number.isSafeInteger(stallMs) || stallMs < 0 || stallMs > 60_000) {
  console.error('usage: stress:edits [--seconds N] [--stall-ms M]')
  process.exit(2)
}
const r = await runEditRace({ durationMs: seconds * 1000, appendEveryMs: 23, masterEveryMs: 60, appendStallMs: stallMs, settleMs: 60_000 })
console.log(`edit race, ${seconds} s: ${r.appended} lines appended to the slave's file, ${r.masterEdits} master edits, ${r.versionsApplied} versions applied, ${r.lostOnSlave.length} lost on the slave, ${r.missingOnMaster.length} missing on the master`)
console.log(JSON.stringify({ seconds, appended: r.appended, masterEdits: r.masterEdits, versionsApplied: r.versionsApplied, lostOnSlave: r.lostOnSlave.length, missingOnMaster: r.missingOnMaster.length }))
process.exit(r.lostOnSlave.length === 0 && r.missingOnMaster.length === 0 ? 0 : 1)
