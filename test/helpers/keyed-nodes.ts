/** libp2p nodes on 127.0.0.1 that share one cluster key, for protocol-level tests. */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createSpamsyncNode, type SpamsyncNode } from '../../src/net/libp2p-node.js'
import { generateClusterKey } from '../../src/net/cluster-key.js'

/** `count` started nodes with one fresh cluster key, no mDNS, no bootstrap. */
export async function keyedNodes (count: number): Promise<SpamsyncNode[]> {
  const key = generateClusterKey()
  const nodes: SpamsyncNode[] = []
  for (let i = 0; i < count; i++) {
    nodes.push(await createSpamsyncNode({ privateKey: await generateKeyPair('Ed25519'), clusterKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false }))
  }
  return nodes
}
