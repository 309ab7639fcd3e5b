/**
 * mDNS discovery, inside a network namespace the test makes (loopback only, multicast routed to
 * lo), so no multicast leaves the machine. Two agents with no bootstrap address must find each
 * other and sync.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Cluster, waitFor } from '../helpers/agents.js'
import { NetnsAgent, NetnsLab } from '../helpers/netns.js'

const FAMILY = 'ssmdns'
const skip = NetnsLab.unavailable(FAMILY)

test('two agents with mDNS only find each other and sync', { skip: skip ?? false, timeout: 240_000 }, async (t) => {
  const lab = new NetnsLab(FAMILY)
  lab.removeLeftovers()
  const cluster = await Cluster.create()
  t.after(async () => {
    await cluster.cleanup()
    lab.cleanup()
  })
  const ns = lab.addNamespace('lo', { loopbackMulticast: true })
  const agents: NetnsAgent[] = []
  for (const i of [0, 1]) {
    const agent = await cluster.addWith(dir => new NetnsAgent(ns, '127.0.0.1', dir, cluster.keyFile, { p2p: 4800 + i, http: 8800 + i }))
    await agent.start()
    agents.push(agent)
  }
  await agents[0].writeList('blacklist', 'found-by-mdns.example.com\n')
  await waitFor('b to receive the entry over mDNS-found connection', async () => (await agents[1].keys('blacklist')).includes('found-by-mdns.example.com'), 120_000, 250)
  const status = await agents[1].status()
  assert.equal(status.peers.filter((p: any) => p.connected).length, 1)
})
