/**
 * A peer that stalls a fetch (never sends its request, or never reads the archive) holds the
 * master's fetch slots on its own connection only until the timeout (shortened here): other
 * peers fetch meanwhile, and the freed slots serve the staller again.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { lpStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import type { SpamsyncNode } from '../../../src/net/libp2p-node.js'
import { FETCH_PROTOCOL, FetchService, fetchFrom, MAX_INBOUND_FETCHES, type Served } from '../../../src/protocol/fetch-service.js'
import { TrafficCounter } from '../../../src/protocol/traffic.js'
import { FetchRequest, Status } from '../../../src/pb/spamsync.js'
import { LOCAL_VERSIONS } from '../../../src/protocol/compat.js'
import { keyedNodes } from '../../helpers/keyed-nodes.js'
import { waitFor } from '../../helpers/agents.js'

/** Long enough that the checks made while stalled surely run before it. */
const TIMEOUT_MS = 4000

/** Far more than the stream, yamux and socket buffers between two nodes hold. */
const ARCHIVE_BYTES = 32 * 1024 * 1024

const request = (nodeId: string): FetchRequest =>
  ({ hello: { nodeId, ...LOCAL_VERSIONS }, since: { term: 0, seq: 0 }, want: { term: 1, seq: 1 }, fanOut: false })

/** A master serving `zip` to everyone; `released` counts freed sender slots, `releasedAt` when (performance.now()). */
async function servingMaster (t: any, zip: Uint8Array): Promise<{ master: SpamsyncNode, staller: SpamsyncNode, honest: SpamsyncNode, released: string[], releasedAt: Map<string, number> }> {
  const [master, staller, honest] = await keyedNodes(3)
  const released: string[] = []
  const releasedAt = new Map<string, number>()
  const service = new FetchService(master, {
    refusal: () => null,
    serve: async (_since, _want, ask): Promise<Served> =>
      ({ status: Status.OK, kind: 'full', version: { term: 1, seq: 1 }, zip, release: () => { released.push(ask.nodeId); releasedAt.set(ask.nodeId, performance.now()) } })
  }, new TrafficCounter(), { timeoutMs: TIMEOUT_MS })
  await service.start()
  t.after(async () => { await service.stop(); await honest.stop(); await staller.stop(); await master.stop() })
  await staller.dial(master.getMultiaddrs()[0])
  await honest.dial(master.getMultiaddrs()[0])
  return { master, staller, honest, released, releasedAt }
}

test('fetch streams that never send a request hold their slots only until the timeout', { timeout: 60_000 }, async (t) => {
  const zip = randomBytes(100)
  const { master, staller, honest } = await servingMaster(t, zip)
  const stalled: Stream[] = []
  for (let i = 0; i < MAX_INBOUND_FETCHES; i++) stalled.push(await staller.dialProtocol(master.peerId, FETCH_PROTOCOL))

  await assert.rejects(fetchFrom(staller, master.peerId, request(staller.peerId.toString()), new TrafficCounter()),
    'a further fetch on the stalled connection finds no free slot')
  const meanwhile = await fetchFrom(honest, master.peerId, request(honest.peerId.toString()), new TrafficCounter())
  assert.equal(meanwhile.response.status, Status.OK, 'another peer fetches while the staller holds its slots')

  await waitFor('the master to close the stalled streams', () => stalled.every(s => s.status !== 'open'), 30_000)
  const again = await fetchFrom(staller, master.peerId, request(staller.peerId.toString()), new TrafficCounter())
  assert.deepEqual(again.zip, zip, 'the freed slot serves the staller')
})

test('a fetch whose reader never reads frees its slot at the write timeout; others get the archive', { timeout: 90_000 }, async (t) => {
  const zip = randomBytes(ARCHIVE_BYTES)
  const { master, staller, honest, released, releasedAt } = await servingMaster(t, zip)
  const stream = await staller.dialProtocol(master.peerId, FETCH_PROTOCOL)
  const asked = performance.now()
  await lpStream(stream).write(FetchRequest.encode(request(staller.peerId.toString())))
  // Paused, libp2p stops granting the master window: a stream merely left unread would
  // instead be reset by its own 4 MB read-buffer limit, which frees the slot at once.
  stream.pause()

  const meanwhile = await fetchFrom(honest, master.peerId, request(honest.peerId.toString()), new TrafficCounter())
  assert.deepEqual(meanwhile.zip, zip, 'another peer gets the whole archive while the staller does not read')

  await waitFor('the write timeout to free the staller\'s slot', () => released.includes(staller.peerId.toString()), 60_000)
  // Not before the timeout: until then the master was blocked writing to the staller. (How long
  // the honest fetch takes depends on the machine's load, so its order against this is not checked.)
  assert.ok(releasedAt.get(staller.peerId.toString())! - asked >= TIMEOUT_MS, 'the staller held its slot until the write timed out')
  await waitFor('the master to abort the stalled stream', () => stream.status !== 'open', 30_000)
  const again = await fetchFrom(honest, master.peerId, request(honest.peerId.toString()), new TrafficCounter())
  assert.deepEqual(again.zip, zip, 'the archive is still served after the stalled send failed')
})
