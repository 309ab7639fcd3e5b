import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '@libp2p/interface'
import { PeerDirectory, MAX_DIAL_ERRORS, type DialingNode } from '../../../src/cluster/peer-directory.js'
import { createLog } from '../../../src/log.js'
import { AGENT_VERSION, PROTOCOL_VERSION } from '../../../src/constants.js'

const newId = async (): Promise<PeerId> => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

/** A node whose dials fail (or succeed) as told, with the connections a test sets. */
class FakeNode implements DialingNode {
  readonly dialled: string[] = []
  readonly hungUp: string[] = []
  readonly connected = new Map<string, string>()
  fail = true
  constructor (readonly peerId: PeerId) {}
  async dial (to: PeerId | Multiaddr | Multiaddr[]): Promise<unknown> {
    this.dialled.push(String(to))
    if (this.fail) throw new Error('connection refused')
    return null
  }

  getConnections (peer?: PeerId): Array<{ remoteAddr: Multiaddr }> {
    const remote = peer === undefined ? undefined : this.connected.get(peer.toString())
    return remote === undefined ? [] : [{ remoteAddr: multiaddr(remote) }]
  }

  async hangUp (peer: PeerId): Promise<void> {
    this.hungUp.push(peer.toString())
  }
}

async function directory (bootstrap: string[] = []): Promise<{ dir: PeerDirectory, node: FakeNode, writes: unknown[], reported: string[] }> {
  const node = new FakeNode(await newId())
  const writes: unknown[] = []
  const reported: string[] = []
  const dir = await PeerDirectory.open({
    node,
    store: { write: async (batch) => { writes.push(batch.meta) }, getMeta: async () => undefined },
    bootstrap,
    strictVersion: false,
    log: createLog('silent', 'test'),
    report: (what) => { reported.push(what) }
  })
  return { dir, node, writes, reported }
}

const settle = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

test('a failed dial is kept for the peer\'s status entry, not reported', async () => {
  const { dir, node, reported } = await directory()
  const peer = await newId()
  dir.discovered(peer)
  await settle()
  assert.equal(node.dialled.length, 1)
  assert.equal(dir.lastDialError(peer.toString())?.message, 'connection refused')
  assert.deepEqual(dir.ids(), [peer.toString()])
  assert.deepEqual(reported, [])
})

test('a dial that answers clears the peer\'s dial error', async () => {
  const { dir, node } = await directory()
  const peer = await newId()
  dir.discovered(peer)
  await settle()
  node.fail = false
  dir.discovered(peer)
  await settle()
  assert.equal(dir.lastDialError(peer.toString()), null)
})

test('only the newest MAX_DIAL_ERRORS failed peers are kept', async () => {
  const { dir } = await directory()
  for (let i = 0; i < MAX_DIAL_ERRORS + 3; i++) dir.discovered(await newId())
  await settle()
  assert.equal(dir.ids().length, MAX_DIAL_ERRORS)
})

test('an incompatible peer from identify is hung up on and not dialled again', async () => {
  const { dir, node } = await directory()
  const peer = await newId()
  dir.identified(peer, 'curl/8')
  assert.equal(dir.info(peer.toString())?.compatible, false)
  assert.deepEqual(node.hungUp, [peer.toString()])
  dir.discovered(peer)
  assert.deepEqual(node.dialled, [])
})

test('a compatible peer\'s versions are kept, printable', async () => {
  const { dir } = await directory()
  dir.heard('p', { agentVersion: `${AGENT_VERSION}\u001b[2J`, protocolVersion: PROTOCOL_VERSION, schemaVersion: 1 }, null)
  const info = dir.info('p')
  assert.equal(info?.compatible, true)
  assert.ok(info !== undefined && !info.agentVersion.includes('\u001b'))
})

test('a member met on a host its connection shows goes into the stored address book, and is redialled once gone', async () => {
  const { dir, node, writes } = await directory()
  const peer = await newId()
  const addr = `/ip4/10.0.0.1/tcp/4001/p2p/${peer.toString()}`
  node.connected.set(peer.toString(), '/ip4/10.0.0.1/tcp/55555')
  dir.remember(peer.toString(), [multiaddr(addr).bytes])
  await settle()
  assert.equal(writes.length, 1)
  dir.redial()
  assert.deepEqual(node.dialled, [], 'connected: not dialled')
  node.connected.clear()
  dir.redial()
  assert.deepEqual(node.dialled, [addr])
})

test('bootstrap peers not connected are redialled; nothing is dialled after stop', async () => {
  const peer = await newId()
  const boot = `/ip4/127.0.0.1/tcp/1/p2p/${peer.toString()}`
  const { dir, node } = await directory([boot])
  dir.redial()
  assert.deepEqual(node.dialled, [boot])
  dir.stop()
  dir.redial()
  dir.discovered(await newId())
  assert.equal(node.dialled.length, 1)
})

test('a string that is no peer id is never connected', async () => {
  const { dir } = await directory()
  assert.equal(dir.connected('not a peer id'), false)
})
