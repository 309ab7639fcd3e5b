/**
 * The cluster view of three agents in this process: every node's /status `cluster` names all
 * three with lag 0 once they are in sync, /metrics has their lag by node and name, a stopped
 * node shows as down by its name, and `spamsync status` prints one line per node.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { InProcessCluster } from '../../helpers/in-process.js'
import { waitFor } from '../../helpers/agents.js'
import { runCli } from '../../../src/cli/main.js'
import type { ClusterNode } from '../../../src/cluster/health.js'
import type { Agent } from '../../../src/agent.js'

const NAMES = ['mx1', 'mx2', 'mx3']

function clusterOf (a: Agent): ClusterNode[] {
  return a.status().cluster
}

/** What `spamsync status` prints for the agent on `port`. */
async function cliStatus (port: number): Promise<string> {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(['status', '--http-port', String(port)], { stdout: (s) => { out.push(s) }, stderr: (s) => { err.push(s) } })
  assert.equal(code, 0, err.join(''))
  return out.join('')
}

/** Each node's cluster table and status: all three by name, itself first, the one master, every slave's last sync. */
function assertAllInSyncTables (agents: Agent[], master: Agent): void {
  for (const a of agents) {
    const s = a.status()
    const nodes = clusterOf(a)
    assert.deepEqual(nodes.map(n => n.name).slice(1).sort(), NAMES.filter(n => n !== a.config.name))
    assert.equal(nodes[0].name, a.config.name)
    assert.equal(nodes[0].self, true)
    assert.deepEqual(nodes.map(n => n.nodeId).sort(), agents.map(x => x.nodeId).sort())
    assert.equal(nodes.find(n => n.role === 'master')?.nodeId, master.nodeId)
    assert.ok(nodes.every(n => n.health === 'ok' && n.agentVersion !== null && n.uptimeSeconds !== null))
    // Slaves fetched the version: their last sync is known, on every node's view.
    for (const n of nodes.filter(n => n.nodeId !== master.nodeId)) assert.notEqual(n.lastSync, null, n.name)
    assert.equal(s.summary, '3 nodes, all in sync')
    assert.equal(s.name, a.config.name)
    for (const p of s.peers as Array<{ id: string, name: string }>) assert.equal(p.name, agents.find(x => x.nodeId === p.id)?.config.name)
  }
}

/** /metrics of the first node: per-node lag and last sync, labelled by id and name. */
async function assertInSyncMetrics (agents: Agent[], master: Agent): Promise<void> {
  const metrics = await (await fetch(`http://127.0.0.1:${agents[0].httpPort}/metrics`)).text()
  for (const a of agents) {
    assert.match(metrics, new RegExp(`^spamsync_node_lag_versions\\{node="${a.nodeId}",name="${a.config.name}"\\} 0$`, 'm'))
    assert.match(metrics, new RegExp(`^spamsync_node_lag_seconds\\{node="${a.nodeId}",name="${a.config.name}"\\} 0$`, 'm'))
    assert.match(metrics, new RegExp(`^spamsync_node_up\\{node="${a.nodeId}",name="${a.config.name}"\\} 1$`, 'm'))
    if (a !== master) assert.match(metrics, new RegExp(`^spamsync_node_last_sync_timestamp_seconds\\{node="${a.nodeId}",name="${a.config.name}"\\} \\d+(\\.\\d+)?$`, 'm'))
  }
}

/** `spamsync status` of the agent on `port`: the summary, then one line per node beginning with its name. */
async function assertInSyncCliStatus (port: number): Promise<void> {
  const text = await cliStatus(port)
  const lines = text.split('\n')
  assert.equal(lines[0], '3 nodes, all in sync')
  const header = lines.findIndex(l => l.startsWith('NODE '))
  assert.ok(header > 0, text)
  const rows = lines.slice(header + 1, header + 4)
  assert.deepEqual(rows.map(l => l.split(/\s+/)[0]).sort(), NAMES)
  assert.match(rows[0], /^mx1 \*/)
  assert.equal(lines[header + 4], '(* this node)')
}

test('every node sees all three by name, in sync; a stopped one shows as down by its name', async (t) => {
  const cluster = await InProcessCluster.create('cluster-view')
  t.after(async () => { await cluster.stop() })
  const agents: Agent[] = []
  for (const name of NAMES) agents.push(await cluster.start({ name }))
  const master = await cluster.oneMaster()
  await writeFile(join(master.config.settingsDir, 'blacklist.txt'), 'spam@example.com\n')
  await waitFor('the entry on every node', () => agents.every(a => a.engine.appliedVersion.seq > 0 && (a.status().datasets as any).blacklist.entries === 1))

  // Each node's table: all three names, all live, each at the master's version with lag 0 and no problems.
  const inSync = (a: Agent): boolean => {
    const { term, seq } = master.engine.version
    const nodes = clusterOf(a)
    return nodes.length === 3 && nodes.every(n => !n.down && n.lagVersions === 0 && n.lagSeconds === 0 && n.problems.length === 0 &&
      n.appliedVersion === `${term}.${seq}`)
  }
  await waitFor('every node sees all three in sync', () => agents.every(inSync))
  assertAllInSyncTables(agents, master)

  // /metrics: per-node lag and last sync, labelled by id and name.
  await assertInSyncMetrics(agents, master)

  // `spamsync status`: the summary, then one line per node beginning with its name.
  await assertInSyncCliStatus(agents[0].httpPort)

  // A stopped slave: the other two show it down, by its name, and the summary says so.
  const gone = agents.find(a => a !== master)!
  const left = agents.filter(a => a !== gone)
  await gone.stop()
  await waitFor('the stopped node shows as down on both others', () => left.every(a => clusterOf(a).find(n => n.nodeId === gone.nodeId)?.down === true))
  for (const a of left) {
    const row = clusterOf(a).find(n => n.nodeId === gone.nodeId)!
    assert.equal(row.name, gone.config.name)
    assert.equal(row.health, 'down')
    assert.equal(a.status().summary, `3 nodes: ${gone.config.name} is down`)
  }
  const after = await cliStatus(left[0].httpPort)
  assert.equal(after.split('\n')[0], `3 nodes: ${gone.config.name} is down`)
  assert.match(after, new RegExp(`^${gone.config.name} +slave .* down$`, 'm'))
  const metricsAfter = await (await fetch(`http://127.0.0.1:${left[0].httpPort}/metrics`)).text()
  assert.match(metricsAfter, new RegExp(`^spamsync_node_up\\{node="${gone.nodeId}",name="${gone.config.name}"\\} 0$`, 'm'))
})
