/**
 * What a master holds of uploads, over real libp2p nodes on 127.0.0.1: an upload larger than the
 * largest archive the merge's limits allow is refused before a byte is sent; cut-off uploads
 * from many peers (a peer with the key can make any number of ids) are held on disk within the
 * bounds, never in memory, and an honest upload still goes through.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { lpStream } from '@libp2p/utils'
import { UploadService, uploadTo, UPLOAD_PROTOCOL, type UploadServiceOptions } from '../../../src/protocol/upload-service.js'
import { TrafficCounter } from '../../../src/protocol/traffic.js'
import { CHUNK_BYTES } from '../../../src/protocol/transfer.js'
import { DEFAULT_ARCHIVE_LIMITS, maxArchiveBytes } from '../../../src/archive/limits.js'
import { ArchiveKind, Status, UploadReady, UploadRequest } from '../../../src/pb/spamsync.js'
import { LOCAL_VERSIONS } from '../../../src/protocol/compat.js'
import type { SpamsyncNode } from '../../../src/net/libp2p-node.js'
import { waitFor } from '../../helpers/agents.js'
import { keyedNodes } from '../../helpers/keyed-nodes.js'

const request = (node: SpamsyncNode): { hello: any, kind: ArchiveKind, baseTerm: number, baseLseq: number } =>
  ({ hello: { nodeId: node.peerId.toString(), ...LOCAL_VERSIONS }, kind: ArchiveKind.FULL, baseTerm: 0, baseLseq: 0 })

/** A master with an UploadService (partial uploads in a temp folder) and `peers` connected keyed nodes. */
async function setUp (t: any, peers: number, opts: UploadServiceOptions): Promise<{ service: UploadService, master: SpamsyncNode, others: SpamsyncNode[], dir: string, merged: number[] }> {
  const [master, ...others] = await keyedNodes(1 + peers)
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-upload-limits-'))
  const merged: number[] = []
  const service = new UploadService(master, {
    refusal: () => null,
    needsFull: () => false,
    merge: async (_node, zip) => { merged.push(zip.byteLength); return { term: 1, seq: merged.length } }
  }, new TrafficCounter(), { partialDir: dir, ...opts })
  await service.start()
  t.after(async () => {
    await service.stop()
    for (const n of [master, ...others]) await n.stop()
    await rm(dir, { recursive: true, force: true })
  })
  // libp2p takes a few inbound connections a second from one host: dial again until one holds.
  for (const n of others) await waitFor('a connection to the master', async () => await n.dial(master.getMultiaddrs()[0]).then(() => true, () => false), 20_000, 300)
  return { service, master, others, dir, merged }
}

/** Starts an upload of `size` random bytes, sends `send` of them, and cuts the stream. */
async function cutOffUpload (from: SpamsyncNode, master: SpamsyncNode, size: number, send: number): Promise<void> {
  const zip = randomBytes(size)
  const stream = await from.dialProtocol(master.peerId, UPLOAD_PROTOCOL)
  const lp = lpStream(stream)
  await lp.write(UploadRequest.encode({ ...request(from), size, sha256: createHash('sha256').update(zip).digest() }))
  assert.equal(UploadReady.decode((await lp.read()).subarray()).status, Status.OK)
  for (let pos = 0; pos < send; pos += CHUNK_BYTES) await lp.write(zip.subarray(pos, Math.min(send, pos + CHUNK_BYTES)))
  stream.abort(new Error('cut off'))
}

test('the largest upload taken follows from the archive limits, and a larger one is refused before any byte is sent', async (t) => {
  assert.ok(maxArchiveBytes() >= DEFAULT_ARCHIVE_LIMITS.maxTotalBytes)
  const limits = { ...DEFAULT_ARCHIVE_LIMITS, maxTotalBytes: 2 * CHUNK_BYTES }
  const { service, master, others: [slave], merged } = await setUp(t, 1, { limits })
  assert.equal(service.maxUploadBytes, maxArchiveBytes(limits))
  const traffic = new TrafficCounter()
  const outcome = await uploadTo(slave, master.peerId, request(slave), randomBytes(service.maxUploadBytes + 1), traffic)
  assert.equal(outcome.status, Status.REFUSED)
  assert.match(outcome.reason, /over the \d+-byte limit of an archive/)
  assert.ok(traffic.bytesSent < 1000)
  const fits = await uploadTo(slave, master.peerId, request(slave), randomBytes(service.maxUploadBytes), new TrafficCounter())
  assert.equal(fits.status, Status.OK, fits.reason)
  assert.deepEqual(merged, [service.maxUploadBytes])
})

test('cut-off uploads from many peers are held on disk within the bounds; an honest upload still goes through', { timeout: 60_000 }, async (t) => {
  const upload = 4 * CHUNK_BYTES
  const { service, master, others, dir, merged } = await setUp(t, 7, { maxPeerBytes: upload, maxTotalBytes: 2 * upload + CHUNK_BYTES })
  const [honest, ...attackers] = others
  for (const a of attackers) {
    await cutOffUpload(a, master, upload, 3 * CHUNK_BYTES)
    // Wait for the master to see the cut: the upload is then held as a cut-off one.
    await waitFor('the master to see the cut', () => service.held.receiving === 0)
    assert.ok(service.held.bytes <= 2 * upload + CHUNK_BYTES, `held ${service.held.bytes} bytes`)
  }
  const onDisk = await Promise.all((await readdir(dir)).map(async f => (await stat(join(dir, f))).size))
  assert.equal(onDisk.reduce((a, b) => a + b, 0), service.held.bytes, 'what is held is on disk')
  assert.ok(onDisk.length <= 2, `${onDisk.length} cut-off uploads kept`)
  const outcome = await uploadTo(honest, master.peerId, request(honest), randomBytes(upload), new TrafficCounter())
  assert.equal(outcome.status, Status.OK, outcome.reason)
  assert.deepEqual(merged, [upload])
})

test('the same upload twice at once is answered RETRY, and resumes once the first attempt is cut off', async (t) => {
  const { master, others: [slave], service } = await setUp(t, 1, {})
  const zip = randomBytes(3 * CHUNK_BYTES)
  const stream = await slave.dialProtocol(master.peerId, UPLOAD_PROTOCOL)
  const lp = lpStream(stream)
  await lp.write(UploadRequest.encode({ ...request(slave), size: zip.byteLength, sha256: createHash('sha256').update(zip).digest() }))
  assert.equal(UploadReady.decode((await lp.read()).subarray()).status, Status.OK)
  await lp.write(zip.subarray(0, CHUNK_BYTES))
  await waitFor('the first chunk to arrive', () => service.held.bytes > 0)
  const busy = await uploadTo(slave, master.peerId, request(slave), zip, new TrafficCounter())
  assert.equal(busy.status, Status.RETRY)
  assert.match(busy.reason, /still being received/)
  stream.abort(new Error('cut off'))
  await waitFor('the master to keep the cut-off upload', () => service.held.cutOff === 1)
  const traffic = new TrafficCounter()
  const resumed = await uploadTo(slave, master.peerId, request(slave), zip, traffic)
  assert.equal(resumed.status, Status.OK, resumed.reason)
  assert.ok(traffic.bytesSent < 2 * CHUNK_BYTES + 1000, `sent ${traffic.bytesSent}`)
})
