/** The beacon's `tombstone_floor` (sync-v1.md, "Tombstones"): carried, bounded, and followed only from the followed master. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BeaconRouter } from '../../../src/protocol/beacon-router.js'
import { encodeBeacon } from '../../../src/protocol/beacon-wire.js'
import { beaconOutOfBounds } from '../../../src/election/beacon-bounds.js'
import { MAX_WALL_MS } from '../../../src/crdt/hlc.js'
import { Beacon, Pin, Role } from '../../../src/pb/spamsync.js'
import { AGENT_VERSION, PROTOCOL_VERSION, SCHEMA_VERSION } from '../../../src/constants.js'
import type { Beacon as ElectionBeacon } from '../../../src/election/state.js'

const V = { term: 1, seq: 2 }

function wire (nodeId: string, fields: Partial<Beacon> = {}): Uint8Array {
  return Beacon.encode({ nodeId, role: Role.SLAVE, pin: Pin.AUTO, term: 1, masterId: 'm', protocolVersion: PROTOCOL_VERSION, schemaVersion: SCHEMA_VERSION, agentVersion: AGENT_VERSION, ...fields })
}

/** A router whose parts do nothing but record the floors the engine hears. */
function router (): { r: BeaconRouter, floors: number[] } {
  const floors: number[] = []
  const r = new BeaconRouter({
    selfId: 'me',
    strictVersion: false,
    openLink: () => ({ start: async () => {}, stop: async () => {}, send: () => {}, relay: () => {}, introduce: () => {} }),
    report: () => {},
    own: () => ({ addrs: [], fullArchive: undefined, wallMs: 0, name: '', health: undefined }),
    election: { role: 'slave', term: 1, masterId: 'm', receive: () => {}, liveMembers: () => [] },
    peers: { heard: () => {}, dialAddrs: () => {}, remember: () => {} },
    cluster: { heardFrom: () => {} },
    clock: { heardMaster: () => {}, heardPeer: () => {} },
    holders: { announced: () => false },
    engine: { masterAnnounced: () => {}, archiveAnnounced: () => {}, tombstones: { announced: (floor) => { floors.push(floor) } } }
  })
  return { r, floors }
}

test('a master\'s beacon carries its floor; an agent before the field reads 0', () => {
  const own: ElectionBeacon = { nodeId: 'me', priority: 0, pin: 'auto', role: 'master', term: 1, masterId: 'me', version: V, appliedVersion: V }
  const bytes = encodeBeacon(own, { addrs: [], fullArchive: undefined, wallMs: 0, name: '', health: undefined, tombstoneFloor: 1_700_000_000_000 }, 1)
  assert.equal(Beacon.decode(bytes).tombstoneFloor, 1_700_000_000_000)
  assert.equal(Beacon.decode(wire('old')).tombstoneFloor, 0)
})

test('a floor past the largest wall time is out of bounds', () => {
  const b = { priority: 0, term: 1, protocolVersion: 1, schemaVersion: 1, wallMs: 0, beaconPeriod: 0 }
  assert.equal(beaconOutOfBounds({ ...b, tombstoneFloor: MAX_WALL_MS }, 1), null)
  assert.match(beaconOutOfBounds({ ...b, tombstoneFloor: MAX_WALL_MS + 1 }, 1) ?? '', /tombstoneFloor/)
})

test('the floor of the followed master reaches the engine; a slave\'s or another master\'s does not', () => {
  const { r, floors } = router()
  r.receive('m', wire('m', { role: Role.MASTER, version: V, tombstoneFloor: 123 }))
  r.receive('p', wire('p', { tombstoneFloor: 456 }))
  r.receive('q', wire('q', { role: Role.MASTER, masterId: 'q', tombstoneFloor: 789 }))
  assert.deepEqual(floors, [123])
})
