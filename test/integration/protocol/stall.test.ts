/**
 * A peer that opens uploads, sends part of each, then goes silent: while it stalls it holds the
 * master's upload slots on its connection (a further upload from it is refused), other peers
 * upload as usual, and the read timeout (shortened here) aborts the stalled streams, which
 * frees the slots: the same peer's next upload is merged.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { lpStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import { MAX_INBOUND_UPLOADS, UploadService, uploadTo, UPLOAD_PROTOCOL } from '../../../src/protocol/upload-service.js'
import { TrafficCounter } from '../../../src/protocol/traffic.js'
import { CHUNK_BYTES } from '../../../src/protocol/transfer.js'
import { ArchiveKind, Status, UploadReady, UploadRequest } from '../../../src/pb/spamsync.js'
import { LOCAL_VERSIONS } from '../../../src/protocol/compat.js'
import { waitFor } from '../../helpers/agents.js'
import { keyedNodes } from '../../helpers/keyed-nodes.js'

/** Long enough that the refused third upload is tried while the slots are surely held. */
const READ_TIMEOUT_MS = 4000

const request = (nodeId: string): { hello: any, kind: ArchiveKind, baseTerm: number, baseLseq: number } =>
  ({ hello: { nodeId, ...LOCAL_VERSIONS }, kind: ArchiveKind.FULL, baseTerm: 0, baseLseq: 0 })

test('a stalled upload holds its slot only until the read timeout; others upload meanwhile', { timeout: 60_000 }, async (t) => {
  const [master, staller, honest] = await keyedNodes(3)
  const merged: string[] = []
  const service = new UploadService(master, {
    refusal: () => null,
    needsFull: () => false,
    merge: async (nodeId) => { merged.push(nodeId); return { term: 1, seq: merged.length } }
  }, new TrafficCounter(), { readTimeoutMs: READ_TIMEOUT_MS })
  await service.start()
  t.after(async () => { await service.stop(); await honest.stop(); await staller.stop(); await master.stop() })
  await staller.dial(master.getMultiaddrs()[0])
  await honest.dial(master.getMultiaddrs()[0])

  const stalled: Stream[] = []
  for (let i = 0; i < MAX_INBOUND_UPLOADS; i++) {
    // Another archive each time: the same one twice at once is answered RETRY (see upload-limits.test.ts).
    const zip = randomBytes(3 * CHUNK_BYTES)
    const stream = await staller.dialProtocol(master.peerId, UPLOAD_PROTOCOL)
    const lp = lpStream(stream)
    await lp.write(UploadRequest.encode({ ...request(staller.peerId.toString()), size: zip.byteLength, sha256: createHash('sha256').update(zip).digest() }))
    assert.equal(UploadReady.decode((await lp.read()).subarray()).status, Status.OK)
    await lp.write(zip.subarray(0, CHUNK_BYTES))
    stalled.push(stream)
  }

  await assert.rejects(uploadTo(staller, master.peerId, request(staller.peerId.toString()), randomBytes(100), new TrafficCounter()),
    'a further upload on the stalled connection finds no free slot')

  const outcome = await uploadTo(honest, master.peerId, request(honest.peerId.toString()), randomBytes(100), new TrafficCounter())
  assert.equal(outcome.status, Status.OK, 'another peer uploads while the staller holds its slots')

  await waitFor('the master to abort both stalled streams', () => stalled.every(s => s.status !== 'open'), 30_000)
  const again = await uploadTo(staller, master.peerId, request(staller.peerId.toString()), randomBytes(100), new TrafficCounter())
  assert.equal(again.status, Status.OK, 'the freed slot takes the next upload')
  assert.deepEqual(merged, [honest.peerId.toString(), staller.peerId.toString()])
})
