import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createSpamsyncNode, type SpamsyncNode } from '../../../src/net/libp2p-node.js'
import { generateClusterKey, type ClusterKey } from '../../../src/net/cluster-key.js'

async function node (key: ClusterKey, t: { after: (fn: () => Promise<void>) => void }): Promise<SpamsyncNode> {
  const n = await createSpamsyncNode({ privateKey: await generateKeyPair('Ed25519'), clusterKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false })
  t.after(async () => { await n.stop() })
  return n
}

test('nodes holding the same cluster key connect', async (t) => {
  const key = generateClusterKey()
  const a = await node(key, t)
  const b = await node(key, t)
  const conn = await a.dial(b.getMultiaddrs()[0])
  assert.equal(conn.remotePeer.toString(), b.peerId.toString())
})

test('a node with another cluster key cannot connect', async (t) => {
  const a = await node(generateClusterKey(), t)
  const b = await node(generateClusterKey(), t)
  await assert.rejects(a.dial(b.getMultiaddrs()[0]))
  assert.equal(b.getConnections().length, 0)
})
