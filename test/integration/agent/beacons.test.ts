/**
 * Beacons between agents (beacon-link.ts): three agents in this process, the second and third
 * bootstrapped to the first only, plus raw libp2p nodes holding the cluster key that send
 * hand-made frames. Only a node's own beacon counts; one passed on for another node is an
 * introduction, which is dialled and nothing more.
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Agent } from '../../../src/agent.js'
import type { SpamsyncNode } from '../../../src/net/libp2p-node.js'
import { Beacon, Pin, Role } from '../../../src/pb/spamsync.js'
import { AGENT_VERSION, PROTOCOL_VERSION, SCHEMA_VERSION } from '../../../src/constants.js'
import { waitFor } from '../../helpers/agents.js'
import { InProcessCluster } from '../../helpers/in-process.js'
import { beaconLinkTo, RawPeers } from '../../helpers/raw-peers.js'

/** A beacon frame that claims to come from `nodeId`, a pinned master of a high term. */
function forged (nodeId: string, addrs: Uint8Array[] = []): Uint8Array {
  return Beacon.encode({
    nodeId,
    priority: 1000,
    role: Role.MASTER,
    term: 99,
    masterId: nodeId,
    protocolVersion: PROTOCOL_VERSION,
    schemaVersion: SCHEMA_VERSION,
    agentVersion: AGENT_VERSION,
    pin: Pin.PINNED_MASTER,
    addrs: addrs.map(a => new Uint8Array(a)),
    wallMs: Date.now()
  })
}

describe('beacons between agents', { timeout: 120_000 }, () => {
  let cluster: InProcessCluster
  const agents: Agent[] = []
  let raw: RawPeers
  const rawNode = async (): Promise<SpamsyncNode> => await raw.node()
  const linkTo = beaconLinkTo

  before(async () => {
    cluster = await InProcessCluster.create('beacons')
    raw = new RawPeers(cluster.keyFile)
    for (let i = 0; i < 3; i++) agents.push(await cluster.start())
  })

  after(async () => {
    await raw?.stop()
    await cluster?.stop()
  })

  test('agents bootstrapped to one member hear each other directly', async () => {
    const [, b, c] = agents
    await waitFor('b and c hear each other', () => {
      const bHearsC = b.election.members().some(m => m.nodeId === c.nodeId && m.live)
      const cHearsB = c.election.members().some(m => m.nodeId === b.nodeId && m.live)
      return bHearsC && cHearsB
    })
  })

  test('a beacon passed on for a member is not taken as that member\'s word', async () => {
    const [a, b, c] = agents
    await cluster.oneMaster()
    const termBefore = b.election.term
    const link = await linkTo(await rawNode(), b)
    for (let i = 0; i < 5; i++) await link.writeV([forged(c.nodeId), forged(a.nodeId)])
    // One frame more on the same link: once b dialled the node it introduces, b read every frame before it.
    const introduced = await rawNode()
    await link.write(forged(introduced.peerId.toString(), introduced.getMultiaddrs().map(ma => ma.bytes)))
    await waitFor('b read the frames', () => introduced.getConnections().length > 0)
    // Two heartbeats later (two new beacons of a) b still follows the real master in the real term.
    const seen = (): number => b.election.members().find(m => m.nodeId === a.nodeId)?.lastSeen ?? 0
    for (let beat = 1; beat <= 2; beat++) {
      const last = seen()
      await waitFor(`heartbeat ${beat} of a`, () => seen() > last)
    }
    assert.equal(b.election.term, termBefore)
    assert.ok(b.election.members().every(m => m.term !== 99), 'no member is seen in the forged term')
  })

  test('a node named only in an introduction is dialled, and not counted as a member', async () => {
    const [, b] = agents
    const sender = await rawNode()
    const introduced = await rawNode()
    await (await linkTo(sender, b)).writeV([forged(introduced.peerId.toString(), introduced.getMultiaddrs().map(ma => ma.bytes))])
    await waitFor('b dials the introduced node', () => introduced.getConnections().length > 0)
    assert.ok(!b.election.members().some(m => m.nodeId === introduced.peerId.toString()))
  })
})
