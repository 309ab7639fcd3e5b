import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AddressBook, ADDRESS_TTL_MS, MAX_ADDRS_PER_MEMBER, MAX_MEMBERS } from '../../../src/net/address-book.js'

const ID = '12D3KooWPeerA'
const addr = (host: string, port: number, id = ID): string => `/ip4/${host}/tcp/${port}/p2p/${id}`
const inbound = (host: string): string => `/ip4/${host}/tcp/54321`

function book (): { book: AddressBook, clock: { now: number } } {
  const clock = { now: 1_000_000_000 }
  return { book: new AddressBook(() => clock.now), clock }
}

test('only claimed addresses of the member itself, on a host its live connection shows, are kept', () => {
  const { book: b } = book()
  assert.equal(b.met(ID, [], [addr('10.0.0.1', 4001)]), false, 'no connection: nothing is kept')
  assert.equal(b.met(ID, [inbound('10.0.0.1')], [addr('192.0.2.9', 4001), addr('10.0.0.1', 4001, '12D3KooWOther'), '/ip4/10.0.0.1/tcp/4001']), false)
  assert.deepEqual(b.members(), [])
  assert.equal(b.met(ID, [inbound('10.0.0.1')], [addr('192.0.2.9', 4001), addr('10.0.0.1', 4001)]), true)
  assert.deepEqual(b.members(), [[ID, [addr('10.0.0.1', 4001)]]])
})

test('a member keeps at most MAX_ADDRS_PER_MEMBER addresses, the most recently seen first', () => {
  const { book: b } = book()
  for (let port = 1; port <= MAX_ADDRS_PER_MEMBER + 3; port++) b.met(ID, [inbound('10.0.0.1')], [addr('10.0.0.1', port)])
  const [[, addrs]] = b.members()
  assert.equal(addrs.length, MAX_ADDRS_PER_MEMBER)
  assert.equal(addrs[0], addr('10.0.0.1', MAX_ADDRS_PER_MEMBER + 3))
  const many = Array.from({ length: 100 }, (_, i) => addr('10.0.0.1', 1000 + i))
  b.met(ID, [inbound('10.0.0.1')], many)
  assert.equal(b.members()[0][1].length, MAX_ADDRS_PER_MEMBER)
})

test('at most MAX_MEMBERS members are kept: the least recently met is dropped', () => {
  const { book: b, clock } = book()
  for (let i = 0; i < MAX_MEMBERS + 10; i++) {
    clock.now += 1
    b.met(`id${i}`, [inbound('10.0.0.1')], [addr('10.0.0.1', 1, `id${i}`)])
  }
  const ids = b.members().map(([id]) => id)
  assert.equal(ids.length, MAX_MEMBERS)
  assert.ok(!ids.includes('id0') && ids.includes(`id${MAX_MEMBERS + 9}`))
})

test('a member not met for the TTL expires; one met again within it stays', () => {
  const { book: b, clock } = book()
  b.met('a', [inbound('10.0.0.1')], [addr('10.0.0.1', 1, 'a')])
  b.met('b', [inbound('10.0.0.2')], [addr('10.0.0.2', 1, 'b')])
  clock.now += ADDRESS_TTL_MS - 1000
  b.met('b', [inbound('10.0.0.2')], [addr('10.0.0.2', 1, 'b')])
  assert.equal(b.expire(), false)
  clock.now += 2000
  assert.equal(b.expire(), true)
  assert.deepEqual(b.members().map(([id]) => id), ['b'])
})

test('met asks for a write when the addresses change or the stored time is an hour old, not on every beacon', () => {
  const { book: b, clock } = book()
  assert.equal(b.met(ID, [inbound('10.0.0.1')], [addr('10.0.0.1', 1)]), true)
  clock.now += 1000
  assert.equal(b.met(ID, [inbound('10.0.0.1')], [addr('10.0.0.1', 1)]), false)
  assert.equal(b.met(ID, [inbound('10.0.0.1')], [addr('10.0.0.1', 2)]), true)
  clock.now += 60 * 60 * 1000
  assert.equal(b.met(ID, [inbound('10.0.0.1')], [addr('10.0.0.1', 2)]), true)
})

test('load keeps valid, unexpired entries within the bounds and drops the rest, the old claim lists included', () => {
  const { book: b, clock } = book()
  b.met(ID, [inbound('10.0.0.1')], [addr('10.0.0.1', 1)])
  const stored: Record<string, unknown> = {
    ...JSON.parse(JSON.stringify(b.toJSON())),
    old: [addr('192.0.2.1', 1, 'old')],
    expired: { addrs: [addr('10.0.0.3', 1, 'expired')], lastSeen: clock.now - ADDRESS_TTL_MS - 1 },
    junk: { addrs: ['not an address', 7], lastSeen: clock.now },
    badTime: { addrs: [addr('10.0.0.4', 1, 'badTime')], lastSeen: 'soon' },
    long: { addrs: Array.from({ length: 50 }, (_, i) => addr('10.0.0.5', i, 'long')), lastSeen: clock.now }
  }
  for (let i = 0; i < MAX_MEMBERS; i++) stored[`m${i}`] = { addrs: [addr('10.1.0.1', 1, `m${i}`)], lastSeen: clock.now - 10_000 - i }
  const loaded = AddressBook.load(stored, () => clock.now)
  const ids = loaded.members().map(([id]) => id)
  assert.equal(ids.length, MAX_MEMBERS)
  assert.ok(ids.includes(ID) && ids.includes('long'))
  for (const gone of ['old', 'expired', 'junk', 'badTime']) assert.ok(!ids.includes(gone), gone)
  assert.equal(loaded.members().find(([id]) => id === 'long')?.[1].length, MAX_ADDRS_PER_MEMBER)
  assert.deepEqual(AddressBook.load('nonsense', () => clock.now).members(), [])
})
