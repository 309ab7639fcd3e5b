/**
 * `GET /metrics` of agents running in this process: the metric names, values that match the
 * settings files and status, and the duration histograms fed by a real upload, merge and download.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent } from '../../../src/agent.js'
import { defaultConfig } from '../../../src/config.js'
import { generateClusterKey, writeClusterKey } from '../../../src/net/cluster-key.js'
import { waitFor } from '../../helpers/agents.js'

/** Every metric this module promises, by type. */
const EXPECTED: Array<[string, string]> = [
  ['spamsync_role', 'gauge'],
  ['spamsync_term', 'gauge'],
  ['spamsync_central_version_term', 'gauge'],
  ['spamsync_central_version_seq', 'gauge'],
  ['spamsync_applied_version_term', 'gauge'],
  ['spamsync_applied_version_seq', 'gauge'],
  ['spamsync_peers', 'gauge'],
  ['spamsync_entries', 'gauge'],
  ['spamsync_invalid_lines', 'gauge'],
  ['spamsync_sent_bytes_total', 'counter'],
  ['spamsync_received_bytes_total', 'counter'],
  ['spamsync_fetch_served_bytes_total', 'counter'],
  ['spamsync_errors_total', 'counter'],
  ['spamsync_sync_duration_seconds', 'histogram'],
  ['spamsync_merge_duration_seconds', 'histogram'],
  ['spamsync_node_up', 'gauge'],
  ['spamsync_node_lag_versions', 'gauge'],
  ['spamsync_node_lag_seconds', 'gauge'],
  ['spamsync_node_last_sync_timestamp_seconds', 'gauge'],
  ['process_cpu_seconds_total', 'counter']
]

/** Starts agents in one temp folder (the first with `blacklist` as its file); stopped in t.after. */
async function startAgents (t: any, n: number, blacklist = ''): Promise<Agent[]> {
  const root = await mkdtemp(join(tmpdir(), 'spamsync-metrics-'))
  const keyFile = join(root, 'cluster.key')
  await writeClusterKey(keyFile, generateClusterKey())
  const agents: Agent[] = []
  t.after(async () => {
    for (const a of agents) await a.stop()
    await rm(root, { recursive: true, force: true })
  })
  for (let i = 0; i < n; i++) {
    const dir = join(root, `n${i}`)
    await mkdir(join(dir, 'settings'), { recursive: true })
    if (i === 0 && blacklist !== '') await writeFile(join(dir, 'settings', 'blacklist.txt'), blacklist)
    agents.push(await Agent.start({
      ...defaultConfig(),
      dataDir: join(dir, 'data'),
      settingsDir: join(dir, 'settings'),
      clusterKey: keyFile,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: i === 0 ? [] : agents[0].status().listen,
      mdns: false,
      httpPort: 0,
      debounceMs: 20,
      logLevel: 'silent'
    }))
  }
  return agents
}

async function scrape (agent: Agent): Promise<{ contentType: string | null, text: string }> {
  const res = await fetch(`http://127.0.0.1:${agent.httpPort}/metrics`)
  assert.equal(res.status, 200)
  return { contentType: res.headers.get('content-type'), text: await res.text() }
}

/** The value of one series, written as in the exposition (`name{label="v"}`), or undefined. */
function sample (text: string, series: string): number | undefined {
  const line = text.split('\n').find(l => l.startsWith(series + ' '))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

test('GET /metrics shows the agent state in Prometheus text format', async (t) => {
  const [agent] = await startAgents(t, 1, 'spam.example.com\n192.0.2.7 REJECT\n@bad.example\nnot a key!\n')
  const { contentType, text } = await scrape(agent)
  assert.match(contentType ?? '', /^text\/plain; version=0\.0\.4/)
  for (const [name, type] of EXPECTED) assert.ok(text.includes(`# TYPE ${name} ${type}\n`), `${name} ${type} missing`)

  const s = agent.status() as any
  assert.equal(sample(text, 'spamsync_entries{dataset="blacklist"}'), 3)
  assert.equal(sample(text, 'spamsync_entries{dataset="whitelist"}'), 0)
  assert.equal(sample(text, 'spamsync_entries{dataset="bayes"}'), 0)
  assert.equal(sample(text, 'spamsync_invalid_lines{dataset="blacklist"}'), 1)
  assert.equal(sample(text, `spamsync_role{role="${s.role as string}"}`), 1)
  assert.equal(['master', 'slave', 'candidate'].map(r => sample(text, `spamsync_role{role="${r}"}`)).reduce((a, b) => (a ?? 0) + (b ?? 0)), 1)
  assert.equal(sample(text, 'spamsync_term'), s.term)
  for (const state of ['live', 'down', 'incompatible']) assert.equal(sample(text, `spamsync_peers{state="${state}"}`), 0)
  assert.equal(sample(text, 'spamsync_sent_bytes_total'), 0)
  assert.equal(sample(text, 'spamsync_merge_duration_seconds_count'), 0)
})

test('a synced change feeds the traffic counters and the sync and merge histograms', { timeout: 60_000 }, async (t) => {
  const agents = await startAgents(t, 2)
  const master = await waitFor('one master followed by the other', () => {
    const m = agents.find(a => a.election.role === 'master')
    return m !== undefined && agents.every(a => a === m || a.election.masterId === m.nodeId) ? m : null
  })
  const slave = agents.find(a => a !== master)!
  await writeFile(join(slave.config.settingsDir, 'blacklist.txt'), 'spam.example.com\n')
  await waitFor('the change on the master', () => (master.status() as any).datasets.blacklist.entries === 1)
  // The upload is acknowledged before the slave fetches and applies the version it made; its
  // first download may be an earlier version, so wait for the master's newest one, after which
  // nothing changes between the scrape and the status compared below.
  await waitFor('the slave to apply the master\'s newest version', async () => {
    const { text } = await scrape(slave)
    const applied = (slave.status() as any).appliedVersion
    const newest = (master.status() as any).version
    return (sample(text, 'spamsync_sync_duration_seconds_count{direction="download"}') ?? 0) >= 1 &&
      applied.term === newest.term && applied.seq === newest.seq
  })

  const m = (await scrape(master)).text
  assert.ok((sample(m, 'spamsync_merge_duration_seconds_count') ?? 0) >= 1)
  assert.equal(sample(m, 'spamsync_role{role="master"}'), 1)
  assert.equal(sample(m, 'spamsync_peers{state="live"}'), 1)
  assert.equal(sample(m, 'spamsync_entries{dataset="blacklist"}'), 1)
  assert.ok((sample(m, 'spamsync_received_bytes_total') ?? 0) > 0)
  // The slave's fetch was answered by the master (a later fetch may have added to the status since the scrape).
  const served = sample(m, 'spamsync_fetch_served_bytes_total') ?? 0
  assert.ok(served > 0)
  assert.ok(served <= (master.status() as any).fetchBytesServed)

  const s = (await scrape(slave)).text
  const status = slave.status() as any
  assert.ok((sample(s, 'spamsync_sync_duration_seconds_count{direction="upload"}') ?? 0) >= 1)
  assert.equal(sample(s, 'spamsync_role{role="slave"}'), 1)
  assert.equal(sample(s, 'spamsync_applied_version_term'), status.appliedVersion.term)
  assert.equal(sample(s, 'spamsync_applied_version_seq'), status.appliedVersion.seq)
  assert.equal(sample(s, 'spamsync_sent_bytes_total'), status.bytesSent)
  assert.ok(status.bytesSent > 0)
})
