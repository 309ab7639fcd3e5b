/**
 * A real LAN: three hosts, each a network namespace with one agent, plugged by veth pairs into a
 * bridge that lives in a namespace of its own (10.77.0.0/24). mDNS only, no bootstrap address.
 * The hosts find each other and sync; a host cut off by a link down and edits on both sides
 * converge after the link comes back; 10% packet loss and 100 ms delay only slow a sync down.
 * `tc netem` makes loss and delay where the kernel has `sch_netem`; elsewhere nftables makes the
 * loss and the delay is left out (no other qdisc here holds packets for a time: see the test).
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Cluster, waitFor } from '../helpers/agents.js'
import { NetnsAgent, NetnsLab } from '../helpers/netns.js'

const FAMILY = 'sslan'
const skip = NetnsLab.unavailable(FAMILY)
const noNetem = skip ?? NetnsLab.netemUnavailable(FAMILY)
const noNft = NetnsLab.commandUnavailable('nft', '--version', 'nftables')
const noPing = NetnsLab.commandUnavailable('ping', '-V', 'iputils-ping')
/** Why the packet-loss test cannot run: no namespaces, no ping for its probe, or neither netem nor nftables. */
const noLoss = skip ?? noPing ?? (noNetem !== null && noNft !== null ? `${noNetem}; ${noNft}` : null)

/**
 * How long to wait for an election or a sync. Generous: each status is a CLI process run in the
 * namespace, and on a loaded machine (load 25 on 2 cores) those take seconds each.
 */
const PATIENCE_MS = 120_000

/** Waits until every agent's blacklist holds exactly `keys`; prints each node's state when it does not. */
async function converge (agents: NetnsAgent[], keys: string[], timeoutMs = PATIENCE_MS): Promise<void> {
  const want = [...keys].sort()
  try {
    await waitFor(`blacklist = ${want.join(',')} on all`, async () => {
      for (const a of agents) if (JSON.stringify(await a.keys('blacklist')) !== JSON.stringify(want)) return false
      return true
    }, timeoutMs, 250)
  } catch (err) {
    for (const a of agents) {
      const s = await a.status().catch((e: Error) => ({ error: e.message }))
      console.error(`--- ${a.netns} blacklist=${(await a.keys('blacklist')).join(',')}\n${JSON.stringify(s)}\n${a.output.slice(-3000)}`)
    }
    throw err
  }
}

/** Each agent's status shows exactly `entries` blacklist entries and one master every node follows. */
async function assertSettled (cluster: Cluster, agents: NetnsAgent[], entries: number): Promise<void> {
  const master = await cluster.waitForOneMaster(agents, PATIENCE_MS)
  await waitFor('every node to have applied the master\'s version', async () => {
    const statuses = await Promise.all(agents.map(async a => await a.status()))
    const version = JSON.stringify(statuses.find(s => s.nodeId === master.nodeId).version)
    return statuses.every(s => JSON.stringify(s.appliedVersion) === version)
  }, PATIENCE_MS, 500)
  for (const a of agents) assert.equal((await a.status()).datasets.blacklist.entries, entries, `${a.netns} status`)
  // Connections form on their own schedule (mDNS, dials, pruning): a sync can finish through the
  // master before a slave has dialled the other slave, so the full mesh is waited for, not sampled.
  await waitFor('every node connected to every other', async () => {
    const statuses = await Promise.all(agents.map(async a => await a.status()))
    return statuses.every(s => s.peers.filter((p: any) => p.connected).length === agents.length - 1)
  }, PATIENCE_MS, 500)
}

describe('three hosts on a LAN of network namespaces, mDNS only', { skip: skip ?? false, timeout: 900_000 }, () => {
  const lab = new NetnsLab(FAMILY)
  let cluster: Cluster
  const hosts: NetnsAgent[] = []
  let switchNs = ''

  before(async () => {
    lab.removeLeftovers()
    cluster = await Cluster.create()
    switchNs = lab.addSwitch('sw')
    for (const i of [1, 2, 3]) {
      const ns = lab.addHost(`h${i}`, switchNs, `port${i}`, `10.77.0.${i}/24`)
      hosts.push(await cluster.addWith(dir => new NetnsAgent(ns, `10.77.0.${i}`, dir, cluster.keyFile)))
    }
    for (const h of hosts) await h.start()
  })
  after(async () => {
    await cluster?.cleanup()
    lab.cleanup()
  })

  test('the hosts find each other, elect one master and sync a change', async () => {
    await cluster.waitForOneMaster(hosts, PATIENCE_MS)
    await hosts[1].writeList('blacklist', 'a.example\nb.example\nc.example\n')
    await converge(hosts, ['a.example', 'b.example', 'c.example'])
    await assertSettled(cluster, hosts, 3)
    for (const h of hosts) assert.equal((await h.status()).peers.length, 2, 'each host knows the two others')
  })

  test('a host cut off makes changes while the others do; after healing nothing is lost', async () => {
    const [h1, h2, h3] = hosts
    lab.setLink(switchNs, 'port3', false)
    // The two connected hosts settle on one master among themselves; the cut-off one leads itself.
    await cluster.waitForOneMaster([h1, h2], PATIENCE_MS)
    await waitFor('h3 to notice it is alone', async () => (await h3.status()).role === 'master', PATIENCE_MS, 500)

    // Adds and deletes on both sides.
    await h1.writeList('blacklist', 'b.example\nc.example\nleft-side.example\n')
    await h3.writeList('blacklist', 'a.example\nc.example\nright-side.example\n')
    await converge([h1, h2], ['b.example', 'c.example', 'left-side.example'])
    assert.deepEqual(await h3.keys('blacklist'), ['a.example', 'c.example', 'right-side.example'], 'the cut-off host got nothing')

    lab.setLink(switchNs, 'port3', true)
    const union = ['c.example', 'left-side.example', 'right-side.example']
    await converge(hosts, union)
    await assertSettled(cluster, hosts, union.length)
  })

  // 10% loss: every packet from one host to another is dropped with probability 0.1 at exactly one
  // point, netem on the sender's eth0 or nftables on the receiver's eth0. A ping and its reply cross
  // two such points, so about 19% of pings go unanswered.
  // Without sch_netem there is no honest delay on this kernel: sch_fq and sch_etf, the qdiscs that
  // would hold a packet until a time a tc BPF program sets, are missing too; tbf and htb delay only
  // what exceeds a rate; NFQUEUE would be a userspace relay.
  test('a sync completes with 10% packet loss on every link, and 100 ms delay where the kernel has sch_netem', { skip: noLoss ?? false }, async t => {
    for (const h of hosts) {
      if (noNetem === null) lab.exec(h.netns, 'tc', ['qdisc', 'add', 'dev', 'eth0', 'root', 'netem', 'loss', '10%', 'delay', '100ms'])
      else lab.addIngressLoss(h.netns, 'eth0', 10)
    }
    if (noNetem !== null) t.diagnostic('delay not applied: kernel lacks sch_netem (the 10% loss is made by nftables on each host\'s eth0 ingress)')
    const pings = 200
    const loss = lab.pingLoss(hosts[0].netns, hosts[1].address, pings)
    t.diagnostic(`ping h1 -> h2: ${(loss * 100).toFixed(1)}% of ${pings} unanswered (19% expected from 10% each way)`)
    // 19% of 200 is 38 +- 5.5 (one standard deviation): outside 5-40% the loss is not what was set.
    assert.ok(loss >= 0.05 && loss <= 0.4, `ping loss ${loss} is not about 19%`)

    const started = Date.now()
    const before = await hosts[0].keys('blacklist')
    const text = before.join('\n') + '\n' + Array.from({ length: 200 }, (_, i) => `lossy-${i}.example`).join('\n') + '\n'
    await hosts[2].writeList('blacklist', text)
    const want = [...before, ...Array.from({ length: 200 }, (_, i) => `lossy-${i}.example`)]
    await converge(hosts, want)
    await assertSettled(cluster, hosts, want.length)
    t.diagnostic(`the 200 entries were on all 3 hosts and settled after ${Date.now() - started} ms`)
  })
})
