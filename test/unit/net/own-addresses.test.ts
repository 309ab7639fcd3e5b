/** A node's own addresses for its beacons (ownAddressBytes in src/net/libp2p-node.ts): asked of libp2p once a minute or when they changed. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { OWN_ADDRESSES_TTL_MS, ownAddressBytes, type SpamsyncNode } from '../../../src/net/libp2p-node.js'

/** A node that counts how often it is asked for its addresses and can announce a change. */
function fakeNode (): { node: SpamsyncNode, asked: () => number, listeners: () => number, change: (addr: string) => void } {
  let addr = '/ip4/127.0.0.1/tcp/4001'
  let asked = 0
  const listeners: Array<() => void> = []
  const node = {
    getMultiaddrs: () => { asked++; return [multiaddr(addr)] },
    addEventListener: (_type: string, fn: () => void) => { listeners.push(fn) }
  }
  return {
    node: node as unknown as SpamsyncNode,
    asked: () => asked,
    listeners: () => listeners.length,
    change: (a) => { addr = a; for (const fn of listeners) fn() }
  }
}

test('the addresses are asked of libp2p once within the time they are reused', () => {
  const f = fakeNode()
  const first = ownAddressBytes(f.node, 1_000)
  assert.deepEqual(ownAddressBytes(f.node, 1_000 + OWN_ADDRESSES_TTL_MS - 1), first)
  assert.equal(f.asked(), 1)
  ownAddressBytes(f.node, 1_000 + OWN_ADDRESSES_TTL_MS)
  assert.equal(f.asked(), 2)
})

test('a change libp2p announces is in the next beacon\'s addresses, with one listener however often it changes', () => {
  const f = fakeNode()
  ownAddressBytes(f.node, 0)
  f.change('/ip4/127.0.0.1/tcp/4002')
  assert.deepEqual(ownAddressBytes(f.node, 1), [multiaddr('/ip4/127.0.0.1/tcp/4002').bytes])
  f.change('/ip4/127.0.0.1/tcp/4003')
  assert.deepEqual(ownAddressBytes(f.node, 2), [multiaddr('/ip4/127.0.0.1/tcp/4003').bytes])
  assert.equal(f.listeners(), 1)
})
