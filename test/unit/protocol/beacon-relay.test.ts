import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BeaconRouter } from '../../../src/protocol/beacon-router.js'
import { HeartbeatRelay } from '../../../src/protocol/beacon-relay.js'
import { ed25519Signer } from '../../../src/protocol/beacon-signature.js'
import { newEd25519Key } from '../../../src/net/identity.js'
import { relayTargets } from '../../../src/election/relay-tree.js'
import { Beacon, Pin, Role } from '../../../src/pb/spamsync.js'
import { AGENT_VERSION, PROTOCOL_VERSION, SCHEMA_VERSION } from '../../../src/constants.js'
import type { BeaconReceiver } from '../../../src/protocol/beacon-link.js'
import type { Role as ElectionRole } from '../../../src/election/state.js'

/** A node id with its signer, as an agent has them. */
function key (): { id: string, raw: Uint8Array, sign: (d: Uint8Array) => Uint8Array } {
  const k = newEd25519Key()
  const raw = Buffer.from(k.protobuf, 'base64').subarray(4)
  return { id: k.nodeId, raw, sign: ed25519Signer(raw) }
}

const master = key()
const self = key()
/** Relaying members besides the master and this node, ids sorted as the tree takes them. */
const others = Array.from({ length: 6 }, () => key().id)

/** A wire beacon of `nodeId` (a relaying member: beat set). */
function wire (nodeId: string, fields: Partial<Beacon> = {}): Uint8Array {
  return Beacon.encode({ nodeId, role: Role.SLAVE, pin: Pin.AUTO, term: 1, masterId: master.id, protocolVersion: PROTOCOL_VERSION, schemaVersion: SCHEMA_VERSION, agentVersion: AGENT_VERSION, beat: 1, ...fields })
}

/** The master's beacon of beat `beat`, signed as its router signs it. */
function signed (beat: number, fields: Partial<Beacon> = {}): Uint8Array {
  const unsigned = wire(master.id, { role: Role.MASTER, beat, wallMs: beat, ...fields })
  return Buffer.concat([unsigned, Uint8Array.of(0xca, 0x01, 64), master.sign(unsigned)])
}

/** A router of `me` on fakes, every member in `live` known live and relaying unless listed in `legacy`. */
async function router (me: { id: string, raw: Uint8Array }, role: ElectionRole, live: string[], legacy: string[] = [], connected?: string[]): Promise<{ r: BeaconRouter, receive: BeaconReceiver, sent: Array<{ to: string[] | 'all' }>, relayed: Array<{ frame: Uint8Array, to: readonly string[] }>, taken: string[], errors: string[], clock: { now: number } }> {
  const sent: Array<{ to: string[] | 'all' }> = []
  const relayed: Array<{ frame: Uint8Array, to: readonly string[] }> = []
  const taken: string[] = []
  const errors: string[] = []
  const clock = { now: 1_000_000 }
  let receive: BeaconReceiver = () => {}
  const r = new BeaconRouter({
    selfId: me.id,
    strictVersion: false,
    privateKey: async () => ({ raw: me.raw }),
    openLink: (rx) => {
      receive = rx
      return { start: async () => {}, stop: async () => {}, send: (_b, _i, only) => { sent.push({ to: only === undefined ? 'all' : [...only].sort() }) }, relay: (frame, to) => { relayed.push({ frame, to }) }, introduce: () => {}, ...(connected === undefined ? {} : { connectedPeers: () => new Set(connected) }) }
    },
    report: (_what, err) => { errors.push((err as Error).name) },
    own: () => ({ addrs: [], fullArchive: undefined, wallMs: 5, name: 'mx', health: undefined }),
    election: { role, term: 1, masterId: master.id, receive: (b) => { taken.push(`${b.nodeId === master.id ? 'master' : b.nodeId} ${b.role}`) }, liveMembers: () => live },
    peers: { heard: () => {}, dialAddrs: () => {}, remember: () => {} },
    cluster: { heardFrom: () => {} },
    clock: { heardMaster: () => {}, heardPeer: () => {} },
    holders: { announced: () => false },
    engine: { masterAnnounced: () => {}, archiveAnnounced: () => {} },
    now: () => clock.now,
    beatClock: () => clock.now
  })
  await r.start()
  // Each member's own beacon tells whether it relays (a beat) or not (an agent from before).
  for (const id of live) if (id !== master.id) receive(id, wire(id, legacy.includes(id) ? { beat: 0 } : {}))
  taken.length = 0
  return { r, receive, sent, relayed, taken, errors, clock }
}

const electionBeacon = (role: ElectionRole) => ({ nodeId: master.id, priority: 0, pin: 'auto' as const, role, term: 1, masterId: master.id, version: { term: 1, seq: 1 }, appliedVersion: { term: 1, seq: 1 } })

test('the master sends its signed beacon to its children in the relay tree and to every member that does not relay', async () => {
  const legacy = others[0]
  const { r, sent } = await router(master, 'master', others, [legacy])
  r.publish(electionBeacon('master'))
  sent.length = 0
  r.publish(electionBeacon('master'))
  const beat = 1_000_001
  const tree = relayTargets(master.id, master.id, [master.id, ...others.slice(1)].sort(), beat)
  assert.equal(tree.length, 2)
  assert.deepEqual(sent[0].to, [...tree, legacy].sort())
})

test('a master beacon with a new version goes to every peer at once; the next with the same, down the tree', async () => {
  const { r, sent } = await router(master, 'master', others)
  r.publish(electionBeacon('master'))
  r.publish(electionBeacon('master'))
  r.publish({ ...electionBeacon('master'), version: { term: 1, seq: 2 } })
  assert.deepEqual(sent.map(s => s.to === 'all' ? 'all' : s.to.length), ['all', 2, 'all'])
})

test('a node that is not master sends its beacon to every peer, unsigned', async () => {
  const { r, sent } = await router(master, 'candidate', others)
  r.publish(electionBeacon('candidate'))
  assert.deepEqual(sent[0].to, 'all')
})

test('a slave takes the master\'s signed beacon passed on by a member as the master\'s word, and passes it on down the tree', async () => {
  const live = [master.id, ...others]
  const { receive, relayed, taken, errors } = await router(self, 'slave', live)
  const frame = signed(2_000_000)
  receive(others[3], frame)
  assert.deepEqual(errors, [])
  assert.deepEqual(taken, ['master master'])
  assert.deepEqual(relayed[0].to, relayTargets(master.id, self.id, [self.id, ...live].sort(), 2_000_000))
  assert.deepEqual(relayed[0].frame, frame, 'passed on byte for byte')
})

test('a slave with no connection to one of its children passes the beat to that child\'s children instead', async () => {
  const live = [master.id, ...others]
  const members = [self.id, ...live].sort()
  // A beat in which this node has a child that has children of its own.
  let beat = 2_000_000
  const hasGrandchildren = (b: number): boolean => relayTargets(master.id, self.id, members, b).some(c => relayTargets(master.id, c, members, b).length > 0)
  while (!hasGrandchildren(beat)) beat += 1000
  const child = relayTargets(master.id, self.id, members, beat).find(c => relayTargets(master.id, c, members, beat).length > 0) as string
  const { receive, relayed } = await router(self, 'slave', live, [], live.filter(id => id !== child))
  receive(others.find(o => o !== child) as string, signed(beat))
  assert.ok(!relayed[0].to.includes(child))
  for (const grandchild of relayTargets(master.id, child, members, beat)) assert.ok(relayed[0].to.includes(grandchild), 'the unreachable child\'s children get it from this node')
})

test('a copy a relay altered is dropped with a named error and counts for nothing', async () => {
  const { receive, relayed, taken, errors } = await router(self, 'slave', [master.id, ...others])
  const frame = signed(2_000_000, { version: { term: 1, seq: 5 } })
  const forged = Buffer.from(frame)
  forged[forged.indexOf(5, 60)] = 9
  receive(others[1], forged)
  assert.deepEqual(errors, ['BeaconRelayError'])
  assert.deepEqual(taken, [])
  assert.deepEqual(relayed, [])
})

test('a beacon a member signs in the master\'s name with its own key is dropped', async () => {
  const { receive, taken, errors } = await router(self, 'slave', [master.id, ...others])
  const relay = key()
  const unsigned = wire(master.id, { role: Role.MASTER, beat: 2_000_000 })
  receive(relay.id, Buffer.concat([unsigned, Uint8Array.of(0xca, 0x01, 64), relay.sign(unsigned)]))
  assert.deepEqual(errors, ['BeaconRelayError'])
  assert.deepEqual(taken, [])
})

test('a copy replayed after a newer beat was taken is dropped without a word and not passed on', async () => {
  const { receive, relayed, taken, errors, clock } = await router(self, 'slave', [master.id, ...others])
  const old = signed(2_000_000)
  receive(others[1], old)
  clock.now += 1000
  receive(others[2], signed(2_001_000))
  clock.now += 1000
  receive(others[3], old)
  receive(others[4], signed(2_001_000))
  assert.deepEqual(errors, [])
  assert.equal(taken.length, 2)
  assert.equal(relayed.length, 2)
})

test('a copy held back longer than the liveness window is dropped as late: a relay cannot keep a dead master alive', async () => {
  const { receive, relayed, taken, errors, clock } = await router(self, 'slave', [master.id, ...others])
  receive(others[1], signed(2_000_000))
  clock.now += 10_000
  receive(others[2], signed(2_001_000))
  assert.deepEqual(errors, [], 'a loaded relay is late too: not an error')
  assert.equal(taken.length, 1)
  assert.equal(relayed.length, 1)
})

test('the master\'s own copy counts whatever its beat (its connection is its word)', async () => {
  const { receive, taken, errors, clock } = await router(self, 'slave', [master.id, ...others])
  receive(master.id, signed(2_000_000))
  clock.now += 10_000
  receive(master.id, signed(1_000_000))
  assert.deepEqual(errors, [])
  assert.equal(taken.length, 2)
})

test('the master\'s own copy counts without its signature verified, and goes on down the tree as it came', async () => {
  const { receive, relayed, taken, errors } = await router(self, 'slave', [master.id, ...others])
  const frame = signed(2_000_000)
  // Not the master's signature: a relayed copy like it is dropped (above), the master's own is its word.
  frame.set(new Uint8Array(64).fill(7), frame.byteLength - 64)
  receive(master.id, frame)
  assert.deepEqual(errors, [])
  assert.equal(taken.length, 1)
  assert.deepEqual(relayed.map(r => r.frame), [frame])
})

test('a node\'s beats rise with every beacon, also when the clock stands still or goes back', () => {
  const clock = { now: 5000 }
  const relay = new HeartbeatRelay({ selfId: 'me', windowMs: 3000, now: () => clock.now, beatClock: () => clock.now })
  const beats = [relay.nextBeat(), relay.nextBeat()]
  clock.now = 1000
  beats.push(relay.nextBeat())
  clock.now = 9000
  beats.push(relay.nextBeat())
  assert.deepEqual(beats, [5000, 5001, 5002, 9000])
})
