/**
 * A peer that holds the cluster key but speaks another protocol major (or, with strictVersion,
 * runs another agent version) is refused and shown in status as incompatible with both versions.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { multiaddr } from '@multiformats/multiaddr'
import { Agent } from '../../../src/agent.js'
import { defaultConfig } from '../../../src/config.js'
import { generateClusterKey, noisePrologue, writeClusterKey } from '../../../src/net/cluster-key.js'
import { AGENT_VERSION } from '../../../src/constants.js'
import { waitFor } from '../../helpers/agents.js'

async function setup (t: any, strictVersion: boolean, foreignUserAgent: string): Promise<{ agent: Agent, peerId: string }> {
  const root = await mkdtemp(join(tmpdir(), 'spamsync-compat-'))
  const key = generateClusterKey()
  const keyFile = join(root, 'cluster.key')
  await writeClusterKey(keyFile, key)
  const agent = await Agent.start({
    ...defaultConfig(), dataDir: join(root, 'data'), settingsDir: join(root, 'settings'), clusterKey: keyFile,
    listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, httpPort: 0, strictVersion, logLevel: 'silent'
  })
  const foreign = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise({ prologueBytes: noisePrologue(key) })],
    streamMuxers: [yamux()],
    nodeInfo: { userAgent: foreignUserAgent },
    services: { identify: identify() }
  })
  t.after(async () => {
    await foreign.stop()
    await agent.stop()
    await rm(root, { recursive: true, force: true })
  })
  await foreign.dial(multiaddr((agent.status().listen)[0])).catch(() => {})
  return { agent, peerId: foreign.peerId.toString() }
}

async function peerStatus (agent: Agent, id: string): Promise<any> {
  return await waitFor('the peer in status', () => (agent.status().peers as any[]).find(p => p.id === id && p.compatible === false))
}

test('a peer with another protocol major is refused and shown with both versions', async (t) => {
  const { agent, peerId } = await setup(t, false, 'spamsync/9.0.0 protocol/2 schema/1')
  const p = await peerStatus(agent, peerId)
  assert.equal(p.reason, 'protocol 2 (this node speaks 1)')
  assert.equal(p.agentVersion, '9.0.0')
  await waitFor('the connection hung up', () => p.id !== undefined && !(agent.status().peers as any[]).find(x => x.id === peerId).connected)
})

test('with strictVersion a peer running another agent version is refused', async (t) => {
  const { agent, peerId } = await setup(t, true, `spamsync/${AGENT_VERSION}-other protocol/1 schema/1`)
  const p = await peerStatus(agent, peerId)
  assert.equal(p.reason, `agent ${AGENT_VERSION}-other (strictVersion requires ${AGENT_VERSION})`)
})

test('without strictVersion another agent version of the same protocol is welcome', async (t) => {
  const { agent, peerId } = await setup(t, false, `spamsync/${AGENT_VERSION}-other protocol/1 schema/1`)
  await waitFor('identify to reach the agent', () => (agent.status().peers as any[]).some(p => p.id === peerId))
  assert.equal((agent.status().peers as any[]).find(p => p.id === peerId).compatible, true)
})
