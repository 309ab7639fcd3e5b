import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import { MAX_STREAM_WINDOW_BYTES, createSpamsyncNode, type SpamsyncNode } from '../../../src/net/libp2p-node.js'
import { generateClusterKey, type ClusterKey } from '../../../src/net/cluster-key.js'
import { CHUNK_BYTES } from '../../../src/protocol/transfer.js'

/** A protocol of this test alone. */
const BULK = '/spamsync-test/bulk/1.0.0'

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

test('a stream hands its reader frames of at most MAX_STREAM_WINDOW_BYTES, so a 12 MB transfer fits the 4 MiB read buffer of lpStream', async (t) => {
  const key = generateClusterKey()
  const a = await node(key, t)
  const b = await node(key, t)
  const chunks = 12
  let largest = 0
  const received = new Promise<number>((resolve, reject) => {
    void b.handle(BULK, (stream) => {
      stream.addEventListener('message', (evt) => { largest = Math.max(largest, evt.data.byteLength) })
      const lp = lpStream(stream)
      void (async () => {
        let bytes = 0
        for (let i = 0; i < chunks; i++) bytes += (await lp.read()).byteLength
        resolve(bytes)
      })().catch(reject)
    })
  })
  const stream = await a.dialProtocol(b.getMultiaddrs()[0], BULK)
  const lp = lpStream(stream)
  // All at once, as a sender whose writes wait on a corked socket queues them: the frames are as large as the window lets them be.
  const writes = Array.from({ length: chunks }, async () => { await lp.write(new Uint8Array(CHUNK_BYTES)) })
  assert.equal(await received, chunks * CHUNK_BYTES)
  await Promise.all(writes)
  assert.ok(largest <= MAX_STREAM_WINDOW_BYTES, `a message of ${largest} bytes`)
})

test('a node runs no keep-alive ping of libp2p\'s connection monitor: a refused ping stream per connection every 2 minutes was a tenth of an idle agent\'s CPU, and the beacons watch the links', async (t) => {
  const n = await node(generateClusterKey(), t)
  // libp2p makes the monitor a component of the node unless it is disabled (libp2p.js,
  // connectionMonitor.enabled); its components throw MissingServiceError for one never made.
  const components = (n as unknown as { components: Record<string, unknown> }).components
  assert.ok(components.connectionManager !== undefined, 'the components are where this test reads them')
  assert.throws(() => components.connectionMonitor, { name: 'MissingServiceError' })
})
