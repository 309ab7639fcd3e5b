import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BeaconRouter, INTRODUCE_AFTER_MS, RETELL_ADDRS_MS } from '../../../src/protocol/beacon-router.js'
import { electionBeacon, encodeBeacon } from '../../../src/protocol/beacon-wire.js'
import { Beacon, Pin, Role } from '../../../src/pb/spamsync.js'
import { AGENT_VERSION, PROTOCOL_VERSION, SCHEMA_VERSION } from '../../../src/constants.js'
import { BeaconBoundsError, BeaconDecodeError } from '../../../src/errors.js'
import type { BeaconReceiver } from '../../../src/protocol/beacon-link.js'
import { MAX_BEACON_PERIOD, type Beacon as ElectionBeacon, type MemberView, type Role as ElectionRole } from '../../../src/election/state.js'

const V = { term: 1, seq: 2 }
const SHA = new Uint8Array(32).fill(7)

/** A wire beacon of `nodeId`, compatible unless told otherwise. */
function wire (nodeId: string, fields: Partial<Beacon> = {}): Uint8Array {
  return Beacon.encode({ nodeId, role: Role.SLAVE, pin: Pin.AUTO, term: 1, masterId: 'm', protocolVersion: PROTOCOL_VERSION, schemaVersion: SCHEMA_VERSION, agentVersion: AGENT_VERSION, name: `mx-${nodeId}`, ...fields })
}

/** A router on fakes that record what reaches each part; its election is a candidate waiting for m unless told. */
function router (election: { role?: ElectionRole, members?: MemberView[] } = {}): { r: BeaconRouter, calls: string[], sent: Uint8Array[], intros: Uint8Array[][], receive: BeaconReceiver, clock: { now: number } } {
  const calls: string[] = []
  const sent: Uint8Array[] = []
  const intros: Uint8Array[][] = []
  const clock = { now: 1_000_000 }
  let receive: BeaconReceiver = () => {}
  const r = new BeaconRouter({
    selfId: 'me',
    strictVersion: false,
    openLink: (rx) => {
      receive = rx
      return { start: async () => {}, stop: async () => {}, send: (b, introductions) => { sent.push(b); intros.push(introductions()) }, relay: () => {}, introduce: (_b, author, to) => { calls.push(`introduce ${author}${to === undefined ? '' : ` to ${to}`}`) } }
    },
    report: (what, err) => { calls.push(`report ${what}: ${(err as Error).name}`) },
    own: () => ({ addrs: [], fullArchive: undefined, wallMs: 5, name: 'mx-me', health: { lastSyncMs: 0, lagMs: 0, errorCount: 0, lastError: '', invalidLines: [], outputsOk: 0, outputsFailed: 0, hooksOk: 0, hooksFailed: 0, uptimeS: 0, lastErrorMs: 0, outputsFailing: false, hooksFailing: false } }),
    election: { role: election.role ?? 'candidate', term: 1, masterId: 'm', receive: (b) => { calls.push(`election ${b.nodeId} ${b.role}`) }, liveMembers: () => (election.members ?? []).filter(m => m.live).map(m => m.nodeId) },
    peers: {
      heard: (id, _v, reason) => { calls.push(`heard ${id} ${reason === null ? 'ok' : 'refused'}`) },
      dialAddrs: (id) => { calls.push(`dial ${id}`) },
      remember: (id) => { calls.push(`remember ${id}`) }
    },
    cluster: { heardFrom: (id, name) => { calls.push(`name ${id} ${name}`) } },
    clock: { heardMaster: (ms) => { calls.push(`master clock ${ms}`) }, heardPeer: (id, ms) => { calls.push(`peer clock ${id} ${ms}`) } },
    holders: { announced: (id, ref) => { calls.push(`holds ${id} ${ref === undefined ? '-' : ref.version.seq}`); return ref !== undefined } },
    engine: { masterAnnounced: (v) => { calls.push(`master version ${v.seq}`) }, archiveAnnounced: (ref) => { calls.push(`archive ${ref.version.seq}`) } },
    masterBeat: () => { calls.push('master beat') },
    now: () => clock.now
  })
  return { r, calls, sent, intros, receive: (from, bytes) => { receive(from, bytes) }, clock }
}

test('a member\'s own beacon reaches the peers, the cluster view, the election and the holders, and is introduced', () => {
  const { r, calls } = router()
  r.receive('p', wire('p', { wallMs: 42 }))
  assert.deepEqual(calls, ['introduce p', 'heard p ok', 'name p mx-p', 'remember p', 'election p slave', 'holds p -', 'peer clock p 42'])
})

test('a slave introduces a member to its master alone; the master introduces it to the rest', () => {
  const { r, calls } = router({ role: 'slave' })
  r.receive('p', wire('p'))
  r.receive('m', wire('m', { role: Role.MASTER }))
  assert.deepEqual(calls.filter(c => c.startsWith('introduce')), ['introduce p to m'])
})

test('a new link of a slave carries its master\'s last beacon only; of a candidate, every live member\'s', () => {
  const live = (nodeId: string): MemberView => ({ nodeId, live: true } as unknown as MemberView)
  for (const role of ['slave', 'candidate'] as const) {
    const { r, intros } = router({ role, members: [live('m'), live('p')] })
    r.receive('m', wire('m', { role: Role.MASTER }))
    r.receive('p', wire('p'))
    r.publish({ nodeId: 'me', priority: 0, pin: 'auto', role, term: 1, masterId: 'm', version: V, appliedVersion: V })
    assert.deepEqual(intros[0].map(b => Beacon.decode(b).nodeId), role === 'slave' ? ['m'] : ['m', 'p'], role)
  }
})

test('a member that beacons every p heartbeats is introduced again only after INTRODUCE_AFTER_MS x p of silence', () => {
  const { r, calls, clock } = router()
  r.receive('p', wire('p', { beaconPeriod: 5 }))
  clock.now += 5 * INTRODUCE_AFTER_MS
  r.receive('p', wire('p', { beaconPeriod: 5 }))
  clock.now += 5 * INTRODUCE_AFTER_MS + 1
  r.receive('p', wire('p', { beaconPeriod: 5 }))
  assert.equal(calls.filter(c => c === 'introduce p').length, 2)
})

test('the address book is told a member\'s addresses when they change, and the same ones again after RETELL_ADDRS_MS', () => {
  const { r, calls, clock } = router()
  const a = new Uint8Array([4, 127, 0, 0, 1])
  r.receive('p', wire('p', { addrs: [a] }))
  clock.now += 1000
  r.receive('p', wire('p', { addrs: [a] }))
  clock.now += 1000
  r.receive('p', wire('p', { addrs: [a, a] }))
  clock.now += RETELL_ADDRS_MS
  r.receive('p', wire('p', { addrs: [a, a] }))
  assert.equal(calls.filter(c => c === 'remember p').length, 3)
})

test('the followed master\'s beacon gives its clock, version and archive', () => {
  const { r, calls } = router()
  r.receive('m', wire('m', { role: Role.MASTER, wallMs: 9, version: V, fullArchive: { version: V, size: 3, sha256: SHA } }))
  assert.ok(calls.includes('master clock 9'))
  assert.ok(calls.includes('master version 2'))
  assert.ok(calls.includes('archive 2'))
})

test('the followed master\'s beat makes the heartbeat tick, after all else it says; a slave\'s beacon or another master\'s does not', () => {
  const { r, calls } = router()
  r.receive('p', wire('p'))
  r.receive('x', wire('x', { role: Role.MASTER }))
  assert.ok(!calls.includes('master beat'))
  r.receive('m', wire('m', { role: Role.MASTER, wallMs: 9 }))
  assert.equal(calls.at(-1), 'master beat')
  assert.equal(calls.filter(c => c === 'master beat').length, 1)
})

test('an incompatible member is listed and named, nothing more', () => {
  const { r, calls } = router()
  r.receive('p', wire('p', { protocolVersion: PROTOCOL_VERSION + 1 }))
  assert.deepEqual(calls, ['introduce p', 'heard p refused', 'name p mx-p'])
})

test('a member heard again within INTRODUCE_AFTER_MS is not introduced again; after it, it is', () => {
  const { r, calls, clock } = router()
  r.receive('p', wire('p'))
  clock.now += INTRODUCE_AFTER_MS
  r.receive('p', wire('p'))
  clock.now += INTRODUCE_AFTER_MS + 1
  r.receive('p', wire('p'))
  assert.equal(calls.filter(c => c === 'introduce p').length, 2)
})

test('an introduction of another member is only a reason to dial it', () => {
  const { r, calls } = router()
  r.receive('p', wire('q'))
  assert.deepEqual(calls, ['dial q'])
})

test('a frame that does not decode, or is out of bounds, is dropped with a named error', () => {
  const { r, calls } = router()
  assert.throws(() => { r.receive('p', new Uint8Array([0xff, 0xff, 0xff])) }, BeaconDecodeError)
  assert.throws(() => { r.receive('p', wire('p', { term: 2 ** 50 })) }, BeaconBoundsError)
  assert.deepEqual(calls, [])
})

test('a frame the link delivers goes through guarded(): a drop lands in the error log', () => {
  const { calls, receive } = router()
  receive('p', new Uint8Array([0xff, 0xff, 0xff]))
  assert.deepEqual(calls, ['report beacon: BeaconDecodeError'])
})

test('the published beacon carries the election\'s fields and this node\'s own; none after stop', async () => {
  const { r, sent } = router()
  const own: ElectionBeacon = { nodeId: 'me', priority: 3, pin: 'master', role: 'master', term: 4, masterId: 'me', version: V, appliedVersion: V, period: 1, longPeriods: true }
  r.publish(own)
  const b = Beacon.decode(sent[0])
  assert.deepEqual(electionBeacon(b), own)
  assert.equal(b.name, 'mx-me')
  assert.equal(b.wallMs, 5)
  await r.stop()
  r.publish(own)
  assert.equal(sent.length, 1)
})

test('wire and domain agree both ways, an empty master id is none', () => {
  const none: ElectionBeacon = { nodeId: 'x', priority: 0, pin: 'auto', role: 'candidate', term: 0, masterId: null, version: V, appliedVersion: V, period: 1, longPeriods: true }
  const own = { addrs: [], fullArchive: undefined, wallMs: 0, name: '', health: undefined as never }
  assert.deepEqual(electionBeacon(Beacon.decode(encodeBeacon(none, own, 1))), none)
  const slow: ElectionBeacon = { ...none, role: 'slave', period: 7 }
  assert.deepEqual(electionBeacon(Beacon.decode(encodeBeacon(slow, own, 1))), slow)
  assert.equal(Beacon.decode(encodeBeacon({ ...none, period: 1 }, own, 1)).beaconPeriod, 1, 'a period of 1 is sent: 0 tells an agent from before the schedule')
})

test('a period past MAX_BEACON_PERIOD goes in the long field, the capped field says MAX_BEACON_PERIOD to an older agent', () => {
  const own = { addrs: [], fullArchive: undefined, wallMs: 0, name: '', health: undefined }
  const long: ElectionBeacon = { nodeId: 'x', priority: 0, pin: 'auto', role: 'slave', term: 1, masterId: 'm', version: V, appliedVersion: V, period: 500, longPeriods: true }
  const b = Beacon.decode(encodeBeacon(long, own, 1))
  assert.equal(b.beaconPeriod, MAX_BEACON_PERIOD)
  assert.equal(b.longBeaconPeriod, 500)
  assert.deepEqual(electionBeacon(b), long)
})

test('a beacon of an older agent (no long period) is taken with its capped period and as not taking long ones', () => {
  const older = Beacon.decode(Beacon.encode({ ...Beacon.decode(new Uint8Array()), nodeId: 'o', beaconPeriod: MAX_BEACON_PERIOD }))
  const b = electionBeacon(older)
  assert.equal(b.period, MAX_BEACON_PERIOD)
  assert.equal(b.longPeriods, undefined)
})
