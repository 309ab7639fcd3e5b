/**
 * A peer that is down fails every redial. That is expected, so it is kept for the peer's entry in
 * status (and shown under it by `spamsync status`), not added to the error log on every try.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { formatStatus } from '../../../src/cli/commands/status.js'
import { REDIAL_INTERVAL_MS } from '../../../src/cluster/peer-directory.js'
import { waitFor } from '../../helpers/agents.js'
import { InProcessCluster } from '../../helpers/in-process.js'

/** A port on 127.0.0.1 nothing listens on (bound, then closed). */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>(resolve => server.close(() => { resolve() }))
  return port
}

test('a failed dial of a peer that is down shows in its status entry, not in the error log', { timeout: 60_000 }, async () => {
  const cluster = await InProcessCluster.create('dial-errors')
  try {
    const downId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const agent = await cluster.start({ bootstrap: [`/ip4/127.0.0.1/tcp/${await closedPort()}/p2p/${downId}`] })
    type Peer = { id: string, connected: boolean, lastDialError: { time: string, message: string } | null }
    const entry = (): Peer | undefined => (agent.status().peers as Peer[]).find(p => p.id === downId)
    await waitFor('the failed dial in the down peer\'s status entry', () => entry()?.lastDialError != null, 20_000)
    const first = entry()?.lastDialError
    assert.equal(entry()?.connected, false)
    assert.ok(first !== undefined && first !== null && first.message.length > 0)
    // A later redial fails again: the entry is renewed, the error log stays without it.
    await waitFor('a second failed dial', () => entry()?.lastDialError?.time !== first.time, 5 * REDIAL_INTERVAL_MS)
    assert.deepEqual(agent.engine.errors.filter(e => e.message.includes(downId) || /dial/i.test(e.what)), [])
    assert.match(formatStatus(agent.status()), new RegExp(`${downId}[^\\n]*\\n  last dial failed \\d+s ago: `))
  } finally {
    await cluster.stop()
  }
})
