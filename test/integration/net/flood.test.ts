/**
 * A flood against the master of three agents in this process: 300 raw TCP connections that
 * never finish a handshake, and a peer with the key that opens 300 upload and 300 fetch
 * streams at once. The connection manager's limits (MAX_CONNECTIONS, MAX_PENDING_INBOUND) and the
 * services' stream limits hold: the agents keep syncing, and the memory the process holds after
 * the flood stays within a generous bound of what it held before.
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { Agent } from '../../../src/agent.js'
import { readClusterKey } from '../../../src/net/cluster-key.js'
import { createSpamsyncNode, type SpamsyncNode } from '../../../src/net/libp2p-node.js'
import { UPLOAD_PROTOCOL } from '../../../src/protocol/upload-service.js'
import { FETCH_PROTOCOL } from '../../../src/protocol/fetch-service.js'
import { waitFor } from '../../helpers/agents.js'
import { InProcessCluster, listKeys } from '../../helpers/in-process.js'

const FLOOD = 300
const MB = 1024 * 1024

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Heap and RSS after a full collection, in bytes. */
function memory (): { heap: number, rss: number } {
  gc()
  gc()
  const m = process.memoryUsage()
  return { heap: m.heapUsed, rss: m.rss }
}

describe('a connection and stream flood against the master', { timeout: 180_000 }, () => {
  let cluster: InProcessCluster
  const agents: Agent[] = []
  const sockets: Socket[] = []
  let flooder: SpamsyncNode
  let master: Agent

  before(async () => {
    cluster = await InProcessCluster.create('flood')
    for (let i = 0; i < 3; i++) agents.push(await cluster.start())
    flooder = await createSpamsyncNode({ privateKey: await generateKeyPair('Ed25519'), clusterKey: await readClusterKey(cluster.keyFile), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false })
    master = await cluster.oneMaster()
  })

  after(async () => {
    for (const s of sockets) s.destroy()
    await flooder?.stop()
    await cluster?.stop()
  })

  test('the agents keep syncing through the flood and memory stays bounded', async () => {
    const slave = agents.find(a => a !== master)!
    await writeFile(join(slave.config.settingsDir, 'blacklist.txt'), 'before-flood.example\n')
    await waitFor('every node has the change made before the flood', async () => {
      for (const a of agents) if (!(await listKeys(a, 'blacklist')).includes('before-flood.example')) return false
      return true
    })
    // The keyed flooder connects first: the raw sockets below would hold every pending slot.
    await flooder.dial(multiaddr((master.status().listen)[0]))
    const before = memory()

    // The listen address is /ip4/127.0.0.1/tcp/PORT/p2p/ID.
    const port = Number((master.status().listen)[0].split('/')[4])
    let closedByMaster = 0
    for (let i = 0; i < FLOOD; i++) {
      const s = connect(port, '127.0.0.1')
      s.on('error', () => {})
      s.on('close', () => { closedByMaster++ })
      // Half never say a word, half send bytes that are no multistream-select.
      if (i % 2 === 0) s.write('GET / HTTP/1.0\r\n\r\n')
      sockets.push(s)
    }

    const masterId = peerIdFromString(master.nodeId)
    const streams = await Promise.allSettled([
      ...Array.from({ length: FLOOD }, async () => await flooder.dialProtocol(masterId, UPLOAD_PROTOCOL, { signal: AbortSignal.timeout(20_000), maxOutboundStreams: 10 * FLOOD })),
      ...Array.from({ length: FLOOD }, async () => await flooder.dialProtocol(masterId, FETCH_PROTOCOL, { signal: AbortSignal.timeout(20_000), maxOutboundStreams: 10 * FLOOD }))
    ])

    await writeFile(join(slave.config.settingsDir, 'blacklist.txt'), 'before-flood.example\nduring-flood.example\n')
    await waitFor('every node has the change made during the flood', async () => {
      for (const a of agents) if (!(await listKeys(a, 'blacklist')).includes('during-flood.example')) return false
      return true
    }, 60_000)

    const reasons = new Map<string, number>()
    for (const r of streams) if (r.status === 'rejected') reasons.set(String(r.reason?.name ?? r.reason), (reasons.get(String(r.reason?.name ?? r.reason)) ?? 0) + 1)
    for (const r of streams) if (r.status === 'fulfilled') r.value.abort(new Error('flood over'))
    const during = memory()
    const heapGrowth = (during.heap - before.heap) / MB
    const rssGrowth = (during.rss - before.rss) / MB
    // Logged for RELIABILITY.md; the assertion is a generous bound, not a measurement.
    console.log(JSON.stringify({ rawSockets: FLOOD, closedByMaster, streams: streams.length, opened: streams.filter(r => r.status === 'fulfilled').length, refused: Object.fromEntries(reasons), flooderConnections: flooder.getConnections().length, heapGrowthMB: Math.round(heapGrowth), rssGrowthMB: Math.round(rssGrowth) }))
    assert.ok(heapGrowth < 64, `heap grew by ${heapGrowth.toFixed(1)} MB`)
    assert.ok(rssGrowth < 256, `RSS grew by ${rssGrowth.toFixed(1)} MB`)
  })
})
