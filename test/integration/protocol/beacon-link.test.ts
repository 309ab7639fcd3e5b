/**
 * Beacon links: each beacon goes straight to every connected peer once, nothing is forwarded,
 * and a new link starts with the sender's introductions.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import { createSpamsyncNode, type SpamsyncNode } from '../../../src/net/libp2p-node.js'
import { generateClusterKey, type ClusterKey } from '../../../src/net/cluster-key.js'
import { BEACON_PROTOCOL, BeaconLink, MAX_BEACON_BYTES } from '../../../src/protocol/beacon-link.js'

type After = { after: (fn: () => Promise<void>) => void }

/** A node with a beacon link that records every frame it receives as `from:text`. */
async function linked (key: ClusterKey, t: After): Promise<{ node: SpamsyncNode, link: BeaconLink, got: string[], id: string }> {
  const node = await createSpamsyncNode({ privateKey: await generateKeyPair('Ed25519'), clusterKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false })
  const got: string[] = []
  const link = new BeaconLink(node, (from, beacon) => { got.push(`${from}:${new TextDecoder().decode(beacon)}`) })
  await link.start()
  t.after(async () => {
    await link.stop()
    await node.stop()
  })
  return { node, link, got, id: node.peerId.toString() }
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const none = (): Uint8Array[] => []

async function until (what: string, ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

test('a beacon reaches every connected peer, marked with the sender\'s peer id', async (t) => {
  const key = generateClusterKey()
  const a = await linked(key, t)
  const b = await linked(key, t)
  const c = await linked(key, t)
  await a.node.dial(b.node.getMultiaddrs()[0])
  await a.node.dial(c.node.getMultiaddrs()[0])
  a.link.send(text('hello'), none)
  await until('b and c hear a', () => b.got.length > 0 && c.got.length > 0)
  assert.deepEqual(b.got, [`${a.id}:hello`])
  assert.deepEqual(c.got, [`${a.id}:hello`])
})

test('later beacons go over the same link, one frame each', async (t) => {
  const key = generateClusterKey()
  const a = await linked(key, t)
  const b = await linked(key, t)
  await a.node.dial(b.node.getMultiaddrs()[0])
  for (let i = 1; i <= 3; i++) {
    a.link.send(text(`beat ${i}`), none)
    await until(`beat ${i}`, () => b.got.length === i)
  }
  assert.deepEqual(b.got, [`${a.id}:beat 1`, `${a.id}:beat 2`, `${a.id}:beat 3`])
  const streams = b.node.getConnections(a.node.peerId).flatMap(c => c.streams).filter(s => s.protocol === BEACON_PROTOCOL)
  assert.equal(streams.length, 1)
})

test('connected peers are read from the connections, not made anew by getPeers() at each send', async (t) => {
  const key = generateClusterKey()
  const a = await linked(key, t)
  const b = await linked(key, t)
  const c = await linked(key, t)
  await a.node.dial(b.node.getMultiaddrs()[0])
  await a.node.dial(c.node.getMultiaddrs()[0])
  // getPeers() parses every peer id from its string again: once per beat it was 10% of an idle agent's CPU.
  let made = 0
  const getPeers = a.node.getPeers.bind(a.node)
  a.node.getPeers = () => { made++; return getPeers() }
  assert.deepEqual([...a.link.connectedPeers()].sort(), [b.id, c.id].sort())
  a.link.send(text('hello'), none)
  await until('b and c hear a', () => b.got.length > 0 && c.got.length > 0)
  assert.equal(made, 0)
  await a.node.hangUp(c.node.peerId)
  assert.deepEqual([...a.link.connectedPeers()], [b.id])
})

test('the connected peers are read from the connections again only after one opened or closed', async (t) => {
  const key = generateClusterKey()
  const a = await linked(key, t)
  const b = await linked(key, t)
  const c = await linked(key, t)
  await a.node.dial(b.node.getMultiaddrs()[0])
  // Made anew at every send and every relayed beat, the set was 4-6% of an idle agent's CPU time.
  let reads = 0
  const getConnections = a.node.getConnections.bind(a.node)
  a.node.getConnections = (peer) => { reads++; return getConnections(peer) }
  assert.deepEqual([...a.link.connectedPeers()], [b.id])
  assert.deepEqual([...a.link.connectedPeers()], [b.id])
  assert.equal(reads, 1)
  await a.node.dial(c.node.getMultiaddrs()[0])
  assert.deepEqual([...a.link.connectedPeers()].sort(), [b.id, c.id].sort())
  await a.node.hangUp(b.node.peerId)
  await until('a sees b gone', () => !a.link.connectedPeers().has(b.id))
  assert.deepEqual([...a.link.connectedPeers()], [c.id])
})

test('a peer that connects gets the last beacon at once, not at the next send', async (t) => {
  const key = generateClusterKey()
  const a = await linked(key, t)
  const b = await linked(key, t)
  const c = await linked(key, t)
  await a.node.dial(b.node.getMultiaddrs()[0])
  a.link.send(text('quiet slave'), () => [text('intro')])
  await until('b hears a', () => b.got.length > 0)
  // A slave sends every beacon period (10 s and more): c must not wait for it to count a as live.
  await c.node.dial(a.node.getMultiaddrs()[0])
  await until('c hears a without another send', () => c.got.length >= 2)
  assert.deepEqual(c.got, [`${a.id}:intro`, `${a.id}:quiet slave`])
  assert.deepEqual(b.got, [`${a.id}:intro`, `${a.id}:quiet slave`])
})

test('a beacon is not forwarded: a peer two hops away does not hear it', async (t) => {
  const key = generateClusterKey()
  const a = await linked(key, t)
  const b = await linked(key, t)
  const c = await linked(key, t)
  await a.node.dial(b.node.getMultiaddrs()[0])
  await b.node.dial(c.node.getMultiaddrs()[0])
  // b's links to a and c are open, so nothing b sends from now on is an introduction.
  b.link.send(text('b'), none)
  await until('a and c hear b', () => a.got.length > 0 && c.got.length > 0)
  a.link.send(text('from a'), none)
  await until('b hears a', () => b.got.includes(`${a.id}:from a`))
  b.link.send(text('b again'), () => [text('intro')])
  await until('c hears b again', () => c.got.includes(`${b.id}:b again`))
  assert.deepEqual(c.got, [`${b.id}:b`, `${b.id}:b again`])
})

test('a new link starts with the sender\'s introductions, then its own beacon', async (t) => {
  const key = generateClusterKey()
  const a = await linked(key, t)
  const b = await linked(key, t)
  await a.node.dial(b.node.getMultiaddrs()[0])
  a.link.send(text('own'), () => [text('member 1'), text('member 2')])
  await until('three frames', () => b.got.length === 3)
  assert.deepEqual(b.got, [`${a.id}:member 1`, `${a.id}:member 2`, `${a.id}:own`])
})

test('a link opens again after the connection is closed, with introductions', async (t) => {
  const key = generateClusterKey()
  const a = await linked(key, t)
  const b = await linked(key, t)
  await a.node.dial(b.node.getMultiaddrs()[0])
  a.link.send(text('first'), () => [text('intro')])
  await until('first', () => b.got.length === 2)
  await a.node.hangUp(b.node.peerId)
  await a.node.dial(b.node.getMultiaddrs()[0])
  // The new connection gets the last beacon with its introductions at once, then later beacons.
  await until('the last beacon again', () => b.got.length === 4)
  assert.deepEqual(b.got.slice(2), [`${a.id}:intro`, `${a.id}:first`])
  a.link.send(text('second'), () => [text('intro again')])
  await until('second', () => b.got.length === 5)
  assert.deepEqual(b.got.slice(4), [`${a.id}:second`])
})

test('a frame over the size limit closes that link and the receiver keeps hearing others', async (t) => {
  const key = generateClusterKey()
  const a = await linked(key, t)
  const b = await linked(key, t)
  const c = await linked(key, t)
  const conn = await a.node.dial(b.node.getMultiaddrs()[0])
  const stream = await conn.newStream(BEACON_PROTOCOL)
  const closed = new Promise<void>(resolve => { stream.addEventListener('close', () => { resolve() }) })
  await lpStream(stream, { maxDataLength: 2 * MAX_BEACON_BYTES }).write(new Uint8Array(MAX_BEACON_BYTES + 1))
  await closed
  assert.deepEqual(b.got, [])
  await c.node.dial(b.node.getMultiaddrs()[0])
  c.link.send(text('still here'), none)
  await until('b hears c', () => b.got.length === 1)
  assert.deepEqual(b.got, [`${c.id}:still here`])
})

test('frames go both ways between the link and an lpStream (an agent before the link read its stream\'s messages itself)', async (t) => {
  const key = generateClusterKey()
  const a = await linked(key, t)
  const b = await linked(key, t)
  const conn = await a.node.dial(b.node.getMultiaddrs()[0])
  const older = lpStream(await conn.newStream(BEACON_PROTOCOL))
  await older.writeV([text('one'), text('two')])
  await until('b hears both', () => b.got.length === 2)
  assert.deepEqual(b.got, [`${a.id}:one`, `${a.id}:two`])
  let heard: Uint8Array | null = null
  await b.node.unhandle(BEACON_PROTOCOL)
  await b.node.handle(BEACON_PROTOCOL, (stream) => { lpStream(stream).read().then((f) => { heard = f.subarray() }, (err) => { stream.abort(err) }) })
  a.link.send(text('from the link'), none)
  await until('the lpStream reads it', () => heard !== null)
  assert.equal(new TextDecoder().decode(heard ?? undefined), 'from the link')
})
