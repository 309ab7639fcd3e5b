/**
 * A gap the hostile-peer fuzzer found: a peer with the key is followed as master for a moment
 * (its beacon says MASTER, term 50, itself as master) and serves a fetch whose manifest says
 * version {2^31, 1}. Taken as applied, that version would be above every version the honest
 * master of term 51 cuts, so no slave would fetch again. A version past the term this node is in
 * is refused (only the master of a term cuts its versions), and status says so.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AGENT_VERSION, PROTOCOL_VERSION, SCHEMA_VERSION } from '../../../src/constants.js'
import { waitFor } from '../../helpers/agents.js'
import { HostilePeerFuzz } from '../../helpers/hostile-peer.js'
import { InProcessCluster, listKeys } from '../../helpers/in-process.js'
import type { LocalState } from '../../../src/local-state.js'
import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'

const FORGED_TERM = 2 ** 31
const HOSTILE_TERM = 50n
const MASTER = 2n

test('a version past the term of the master a slave follows is refused, and the slaves keep syncing', { timeout: 120_000 }, async () => {
  const fuzz = await HostilePeerFuzz.start(3)
  try {
    const { hostileId } = fuzz.ctx
    const archive = { lists: [], bayes: [], manifest: { version: { term: FORGED_TERM, seq: 1 } } }
    await fuzz.run({
      kind: 'answers',
      answers: {
        uploadReady: { msg: { status: 1n } },
        uploadResult: { msg: { status: 1n } },
        fetchResponse: { msg: { status: 0n, kind: 0n, version: { term: BigInt(FORGED_TERM), seq: 1n } } },
        fetchBody: { archive }
      }
    })
    const beacon = { msg: { nodeId: hostileId, role: MASTER, term: HOSTILE_TERM, masterId: hostileId, version: { term: HOSTILE_TERM, seq: 1n }, protocolVersion: BigInt(PROTOCOL_VERSION), schemaVersion: BigInt(SCHEMA_VERSION), agentVersion: AGENT_VERSION, wallMs: BigInt(Date.now()) } }
    const refused = (a: (typeof fuzz.agents)[number]): boolean => a.engine.errors.some(e => e.what === 'download' && /past term 50/.test(e.message))
    // Every agent follows the hostile master and fetches from it (a beacon a heartbeat, as a master sends).
    await waitFor('every agent fetched from the hostile master and refused its version', async () => {
      if (!fuzz.agents.every(refused)) assert.equal(await fuzz.run({ kind: 'beacons', to: [0, 1, 2], frames: [beacon] }), 'beacons sent')
      return fuzz.agents.every(refused)
    }, 30_000)
    for (const a of fuzz.agents) assert.ok(a.engine.appliedVersion.term < FORGED_TERM, `${a.nodeId} applied ${JSON.stringify(a.engine.appliedVersion)}`)
    const shown = fuzz.agents[0].status() as { errors: Array<{ what: string, message: string }> }
    assert.ok(shown.errors.some(e => e.what === 'download' && e.message.startsWith('VersionAheadError: ') && e.message.includes(`version ${FORGED_TERM}.1`)), JSON.stringify(shown.errors))
    // The hostile peer leaves (it leads), an honest master takes over: an honest edit reaches all.
    await fuzz.converge()
    fuzz.check()
  } finally {
    await fuzz.stop()
  }
})

test('an applied version past the term, in a store written before the check, is forgotten and the slave fetches again', { timeout: 60_000 }, async () => {
  const cluster = await InProcessCluster.create('version-ahead-heal')
  try {
    await cluster.start()
    await cluster.start()
    const master = await cluster.oneMaster()
    const slave = cluster.agents.find(a => a !== master)
    assert.ok(slave !== undefined)
    // What the old code left in a slave's store: the forged version as applied.
    const { store } = (slave as unknown as { state: LocalState }).state
    await store.write({ meta: { appliedVersion: { term: FORGED_TERM, seq: 1 } } })
    await slave.engine.load()
    assert.equal(slave.engine.appliedVersion.term, FORGED_TERM)
    await appendFile(join(master.config.settingsDir, 'blacklist.txt'), 'after-heal.example\n')
    await waitFor('the master\'s edit on the healed slave', async () => (await listKeys(slave, 'blacklist')).includes('after-heal.example'), 20_000)
    assert.ok(slave.engine.appliedVersion.term < FORGED_TERM)
    assert.ok(slave.engine.errors.some(e => e.what === 'download' && e.message.startsWith('VersionAheadError: applied version 2147483648.1 is past term')), JSON.stringify(slave.engine.errors))
  } finally {
    await cluster.stop()
  }
})
