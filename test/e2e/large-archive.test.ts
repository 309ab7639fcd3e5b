/**
 * Two real `spamsync start` processes (the bundle, with its patches of libp2p's transport) sync a
 * list whose archive is larger than libp2p's 4 MiB read buffer: the slave's fetch must take it
 * without the buffer overflowing, however the transport groups the bytes.
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Cluster, waitFor, type AgentProcess } from '../helpers/agents.js'

/** Lines of the list: random 32-hex-digit labels barely compress, so its archive is ~6 MB. */
const LINES = 350_000

/** libp2p's byte stream buffers at most this much of what a stream received and was not read yet. */
const READ_BUFFER_BYTES = 4 * 1024 * 1024

describe('a list whose archive is larger than the read buffer', { timeout: 300_000 }, () => {
  let cluster: Cluster
  let master: AgentProcess
  let slave: AgentProcess

  before(async () => {
    cluster = await Cluster.create()
    const agents = await cluster.startAll(2)
    master = await cluster.waitForOneMaster()
    slave = agents.find(a => a !== master) as AgentProcess
  })
  after(async () => { await cluster.cleanup() })

  test('reaches the other agent whole, at the first fetch', async () => {
    const keys = Array.from({ length: LINES }, () => `${randomBytes(16).toString('hex')}.example`)
    // A busy agent may answer its status late: asked until it does.
    const received = await waitFor('the slave\'s status', async () => (await slave.status()).bytesReceived as number)
    await master.writeList('blacklist', keys.join('\n') + '\n')
    try {
      await waitFor('every line on the slave', async () => (await slave.status()).datasets?.blacklist?.entries === LINES, 240_000, 500)
    } catch (err) {
      console.error(`--- slave\n${JSON.stringify(await slave.status().catch((e: Error) => e.message))}\n${slave.output.slice(-3000)}`)
      throw err
    }
    // The file is written after the count is in status; not deepEqual: its diff of two 350,000-line arrays would take minutes.
    const want = keys.sort().join('\n')
    await waitFor('the slave\'s file to list every key', async () => (await slave.keys('blacklist')).join('\n') === want, 60_000, 500)
    const status = await waitFor('the slave\'s status', async () => await slave.status())
    assert.ok(status.bytesReceived - received > READ_BUFFER_BYTES, 'the archive fetched is larger than the read buffer')
    // Not after a failed fetch and another: the first one took it.
    assert.deepEqual(status.errors, [])
  })
})
