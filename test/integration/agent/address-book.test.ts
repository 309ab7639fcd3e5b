/**
 * A peer with the key announces addresses in its beacons that no connection with it shows (a
 * third party's host, addresses of other ids, a hundred ports): an agent stores only what its
 * connection with that peer shows, bounded, and so redials no one at the peer's word. An honest
 * member's address is stored as before.
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { Agent } from '../../../src/agent.js'
import { readClusterKey } from '../../../src/net/cluster-key.js'
import { createSpamsyncNode, type SpamsyncNode } from '../../../src/net/libp2p-node.js'
import { BeaconLink } from '../../../src/protocol/beacon-link.js'
import { MAX_ADDRS_PER_MEMBER } from '../../../src/net/address-book.js'
import { Beacon, Pin, Role } from '../../../src/pb/spamsync.js'
import { LOCAL_VERSIONS } from '../../../src/protocol/compat.js'
import { waitFor } from '../../helpers/agents.js'
import { InProcessCluster } from '../../helpers/in-process.js'

describe('an agent\'s address book holds only what connections showed', { timeout: 120_000 }, () => {
  let cluster: InProcessCluster
  let agent: Agent
  let honest: Agent
  let hostile: SpamsyncNode
  let link: BeaconLink

  before(async () => {
    cluster = await InProcessCluster.create('address-book')
    agent = await cluster.start()
    honest = await cluster.start()
    hostile = await createSpamsyncNode({ privateKey: await generateKeyPair('Ed25519'), clusterKey: await readClusterKey(cluster.keyFile), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false })
    link = new BeaconLink(hostile, () => {})
    await link.start()
    await hostile.dial(multiaddr((agent.status().listen)[0]))
  })

  after(async () => {
    await link?.stop()
    await hostile?.stop()
    await cluster?.stop()
  })

  const stored = async (): Promise<Record<string, { addrs: string[] }>> => await (agent as any).state.store.getMeta('knownPeers') ?? {}

  test('claimed addresses on another host, or of other ids, are not stored; the claims on the connection\'s host are bounded', async () => {
    const id = hostile.peerId.toString()
    const own = hostile.getMultiaddrs().map(String)
    const claims = [
      `/ip4/192.0.2.7/tcp/25/p2p/${id}`,
      `/ip4/127.0.0.1/tcp/9/p2p/${honest.nodeId}`,
      ...Array.from({ length: 100 }, (_, i) => `/ip4/127.0.0.1/tcp/${20000 + i}/p2p/${id}`),
      ...own
    ]
    const beacon = Beacon.encode({
      nodeId: id, priority: -100, role: Role.CANDIDATE, term: 0, masterId: '', protocolVersion: LOCAL_VERSIONS.protocolVersion, schemaVersion: LOCAL_VERSIONS.schemaVersion,
      agentVersion: LOCAL_VERSIONS.agentVersion, pin: Pin.PINNED_SLAVE, addrs: claims.map(a => multiaddr(a).bytes), wallMs: 0
    })
    await waitFor('the agent to store the peer', async () => {
      link.send(beacon, () => [])
      return (await stored())[id] !== undefined
    })
    // Older agents stored the claims as a plain list.
    const entry = (await stored())[id] as unknown as { addrs: string[] } | string[]
    const addrs = Array.isArray(entry) ? entry : entry.addrs
    assert.ok(addrs.length <= MAX_ADDRS_PER_MEMBER, `${addrs.length} addresses`)
    for (const a of addrs) {
      assert.ok(a.startsWith('/ip4/127.0.0.1/') && a.endsWith(`/p2p/${id}`), a)
    }
    await waitFor('the honest member to be stored with its address', async () => {
      const addrs = (await stored())[honest.nodeId]?.addrs ?? []
      return addrs.some(a => (honest.status().listen).includes(a))
    })
  })
})
