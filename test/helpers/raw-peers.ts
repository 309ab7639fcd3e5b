/**
 * Keyed peers without an agent: libp2p nodes that hold the cluster key and send hand-made frames
 * (a compromised member, a peer of another version), and their beacon links to an agent. Shared
 * by the tests that play such a peer against agents in this process.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import type { Agent } from '../../src/agent.js'
import { readClusterKey } from '../../src/net/cluster-key.js'
import { createSpamsyncNode, type SpamsyncNode } from '../../src/net/libp2p-node.js'
import { BEACON_PROTOCOL } from '../../src/protocol/beacon-link.js'

/** The raw peers of one test or suite; stop() stops every one. */
export class RawPeers {
  private readonly nodes: SpamsyncNode[] = []

  /** `keyFile`: the cluster key the peers hold. */
  constructor (private readonly keyFile: string) {}

  /** A new keyed node on 127.0.0.1 that dials nobody by itself. */
  async node (): Promise<SpamsyncNode> {
    const node = await createSpamsyncNode({ privateKey: await generateKeyPair('Ed25519'), clusterKey: await readClusterKey(this.keyFile), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false })
    this.nodes.push(node)
    return node
  }

  async stop (): Promise<void> {
    for (const node of this.nodes) await node.stop()
    this.nodes.length = 0
  }
}

/** Opens a beacon link of `node`'s own to `agent`. */
export async function beaconLinkTo (node: SpamsyncNode, agent: Agent): Promise<LengthPrefixedStream<Stream>> {
  const conn = await node.dial(multiaddr((agent.status().listen)[0]))
  return lpStream(await conn.newStream(BEACON_PROTOCOL))
}
