/**
 * A peer's own words (its identify user agent, the agent version, master id, name and health in its beacons,
 * a refusal it sends) reach status, the log and `spamsync status` with control and bidi
 * characters escaped: a peer cannot clear the operator's screen or print fake lines there.
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
import { generateClusterKey, noisePrologue, readClusterKey, writeClusterKey } from '../../../src/net/cluster-key.js'
import { Beacon, Pin, Role } from '../../../src/pb/spamsync.js'
import { PROTOCOL_VERSION, SCHEMA_VERSION } from '../../../src/constants.js'
import { runCli } from '../../../src/cli/main.js'
import { startStatusServer } from '../../../src/http/status-server.js'
import type { StatusDocument } from '../../../src/http/status-document.js'
import type { SyncNowResult } from '../../../src/sync/sync-now.js'
import { isPrintable } from '../../../src/printable.js'
import { waitFor } from '../../helpers/agents.js'
import { testAgentConfig } from '../../helpers/in-process.js'
import { beaconLinkTo, RawPeers } from '../../helpers/raw-peers.js'

/** Clears the screen, homes the cursor and prints a fake line; then a right-to-left override. */
const HOSTILE = '\x1b[2J\x1b[Hrole master (all fine)\r\n\x9b31m\u202edetarepo\x07'

async function startAgent (t: any): Promise<{ agent: Agent, keyFile: string }> {
  const root = await mkdtemp(join(tmpdir(), 'spamsync-peer-text-'))
  const keyFile = join(root, 'cluster.key')
  await writeClusterKey(keyFile, generateClusterKey())
  const agent = await Agent.start(testAgentConfig(root, keyFile, []))
  t.after(async () => {
    await agent.stop()
    await rm(root, { recursive: true, force: true })
  })
  return { agent, keyFile }
}

/** What `spamsync status` prints for the agent on `port`. */
async function cliStatus (port: number): Promise<string> {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(['status', '--http-port', String(port)], { stdout: (s) => { out.push(s) }, stderr: (s) => { err.push(s) } })
  assert.equal(code, 0, err.join(''))
  return out.join('')
}

function assertNoControl (text: string): void {
  assert.ok(isPrintable(text.replaceAll('\n', '')), `unescaped control or bidi characters in ${JSON.stringify(text)}`)
}

test('a peer\'s identify user agent with terminal escapes is shown escaped in status and by spamsync status', async (t) => {
  const { agent, keyFile } = await startAgent(t)
  const foreign = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise({ prologueBytes: noisePrologue(await readClusterKey(keyFile)) })],
    streamMuxers: [yamux()],
    nodeInfo: { userAgent: HOSTILE },
    services: { identify: identify() }
  })
  t.after(async () => { await foreign.stop() })
  await foreign.dial(multiaddr((agent.status().listen)[0])).catch(() => {})
  const id = foreign.peerId.toString()
  const p = await waitFor('the peer in status', () => (agent.status().peers as any[]).find(x => x.id === id && x.compatible === false))
  assert.equal(p.agentVersion, '\\x1b[2J\\x1b[Hrole master (all fine)\\x0d\\x0a\\x9b31m\\u202edetarepo\\x07')
  assert.equal(p.reason, `not a spamsync agent (${p.agentVersion as string})`)
  const printed = await cliStatus(agent.httpPort)
  assertNoControl(printed)
  assert.ok(printed.includes('\\x1b[2J'), printed)
})

test('a keyed peer\'s beacon with escapes in its agent version and master id is shown escaped', async (t) => {
  const { agent, keyFile } = await startAgent(t)
  const peers = new RawPeers(keyFile)
  t.after(async () => { await peers.stop() })
  const raw = await peers.node()
  const id = raw.peerId.toString()
  const link = await beaconLinkTo(raw, agent)
  // Identify may record the node's honest version after a beacon, so the beacon repeats (a heartbeat).
  const beacon = Beacon.encode({
    nodeId: id,
    priority: 0,
    role: Role.SLAVE,
    term: 0,
    masterId: HOSTILE,
    protocolVersion: PROTOCOL_VERSION,
    schemaVersion: SCHEMA_VERSION,
    agentVersion: HOSTILE,
    pin: Pin.AUTO,
    addrs: [],
    wallMs: 0,
    name: HOSTILE,
    health: { lastSyncMs: 0, lagMs: 0, errorCount: 1, lastError: HOSTILE, lastErrorMs: Date.now(), invalidLines: [{ dataset: HOSTILE, count: 1 }], outputsOk: 0, outputsFailed: 0, outputsFailing: false, hooksOk: 0, hooksFailed: 0, hooksFailing: false, uptimeS: 1 }
  })
  const p = await waitFor('the beacon\'s peer in status', async () => {
    await link.write(beacon)
    return (agent.status().peers as any[]).find(x => x.id === id && x.agentVersion?.startsWith('\\x1b'))
  }, 20_000, 200)
  assert.ok(p.compatible)
  // Its name and its health's words too, in the cluster view; the unknown dataset is dropped.
  const row = await waitFor('the beacon\'s node in the cluster view', () => (agent.status().cluster as any[]).find(n => n.nodeId === id && n.lastError !== null))
  assert.ok(row.name.startsWith('\\x1b[2J'))
  assert.deepEqual(row.invalidLines, {})
  assertNoControl(JSON.stringify(agent.status()))
  const printed = await cliStatus(agent.httpPort)
  assertNoControl(printed)
})

test('an error quoting a peer is kept escaped in status', async (t) => {
  const { agent } = await startAgent(t)
  agent.engine.report(`download from ${HOSTILE}`, new Error(`refused: ${HOSTILE}`))
  const e = (agent.status().errors as any[]).at(-1)
  assertNoControl(e.what)
  assertNoControl(e.message)
  assert.ok(e.message.startsWith('refused: \\x1b[2J'), e.message)
})

test('spamsync status escapes what an agent answered even when the agent did not', async (t) => {
  const s = {
    nodeId: HOSTILE, role: 'slave', term: 1, masterId: HOSTILE, version: null, appliedVersion: null, agentVersion: HOSTILE, protocolVersion: 1,
    clockOffsetMs: null, bytesSent: 0, bytesReceived: 0, lastUpload: null, lastDownload: null,
    datasets: { [HOSTILE]: { entries: 1, invalidLines: [{ file: HOSTILE, line: 1, reason: HOSTILE }] } },
    peers: [{ id: HOSTILE, role: HOSTILE, appliedVersion: null, agentVersion: HOSTILE, compatible: false, reason: HOSTILE, lastSeen: new Date().toISOString() }],
    errors: [{ time: HOSTILE, what: HOSTILE, message: HOSTILE }],
    warnings: [HOSTILE]
  }
  const server = await startStatusServer('127.0.0.1', 0, {
    // A hostile agent's document: of the right shape only where the CLI needs it.
    status: () => s as unknown as StatusDocument,
    metrics: async () => '',
    sync: async () => ({}) as unknown as SyncNowResult,
    history: async () => [],
    historyItem: async () => undefined,
    rollback: async () => ({ version: { term: 0, seq: 0 }, lists: {} })
  }, { token: 'x', allowedHosts: [] })
  t.after(async () => { await server.close() })
  const printed = await cliStatus(server.port)
  assertNoControl(printed)
  assert.match(printed, /^node {6}\\x1b\[2J/)
})

test('a keyed peer of another protocol major is refused and still listed by the name its beacon gives', async (t) => {
  const { agent, keyFile } = await startAgent(t)
  const peers = new RawPeers(keyFile)
  t.after(async () => { await peers.stop() })
  const raw = await peers.node()
  const id = raw.peerId.toString()
  const link = await beaconLinkTo(raw, agent)
  const beacon = Beacon.encode({ nodeId: id, role: Role.SLAVE, pin: Pin.AUTO, protocolVersion: PROTOCOL_VERSION + 1, schemaVersion: SCHEMA_VERSION, agentVersion: '9.0.0', name: 'mx-next' })
  const p = await waitFor('the refused peer by name', async () => {
    await link.write(beacon).catch(() => {})
    return (agent.status().peers as any[]).find(x => x.id === id && x.compatible === false && x.name === 'mx-next')
  }, 20_000, 200)
  assert.match(p.reason, /^protocol 2/)
  // Refused: not a member, so not in the cluster table.
  assert.equal((agent.status().cluster as any[]).some(n => n.nodeId === id), false)
})
