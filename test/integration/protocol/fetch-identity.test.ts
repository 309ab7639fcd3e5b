/**
 * A fetch is served only to the node it names: a keyed peer whose hello names another node (an
 * honest member, or an id of its choosing) is refused before anything is served, so it can
 * neither make the master's BUSY answers list nodes that never got the archive nor grow that list.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FetchService, fetchFrom, type FetchAsk, type Served } from '../../../src/protocol/fetch-service.js'
import { TrafficCounter } from '../../../src/protocol/traffic.js'
import { FetchRequest, Status } from '../../../src/pb/spamsync.js'
import { LOCAL_VERSIONS } from '../../../src/protocol/compat.js'
import { keyedNodes } from '../../helpers/keyed-nodes.js'

const request = (nodeId: string): FetchRequest =>
  ({ hello: { nodeId, ...LOCAL_VERSIONS }, since: { term: 0, seq: 0 }, want: { term: 1, seq: 1 }, fanOut: true })

test('a fetch whose hello names another node than the connection\'s is refused and serves nothing', { timeout: 30_000 }, async (t) => {
  const [master, peer, victim] = await keyedNodes(3)
  const asked: FetchAsk[] = []
  const service = new FetchService(master, {
    refusal: () => null,
    serve: async (_since, _want, ask): Promise<Served> => { asked.push(ask); return { status: Status.UP_TO_DATE } }
  }, new TrafficCounter())
  await service.start()
  t.after(async () => { await service.stop(); for (const n of [victim, peer, master]) await n.stop() })
  await peer.dial(master.getMultiaddrs()[0])

  for (const named of [victim.peerId.toString(), 'x'.repeat(8192), '']) {
    const { response } = await fetchFrom(peer, master.peerId, request(named), new TrafficCounter())
    assert.equal(response.status, Status.REFUSED)
    assert.match(response.reason, /^hello names node .*, but the connection is from /)
    assert.ok(response.reason.length < 300, 'the reason quotes at most 100 characters of the named id')
  }
  assert.equal(asked.length, 0, 'nothing was served for the forged names')

  const { response } = await fetchFrom(peer, master.peerId, request(peer.peerId.toString()), new TrafficCounter())
  assert.equal(response.status, Status.UP_TO_DATE, 'the same peer asking as itself is served')
  assert.deepEqual(asked.map(a => a.nodeId), [peer.peerId.toString()])
})
