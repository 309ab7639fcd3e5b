/**
 * `/spamsync/upload/1.0.0` over real libp2p nodes on 127.0.0.1, with a recording master. Each
 * step waits for what the master shows (its traffic counter, its cut-off uploads, the offset it
 * answers), never for time.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import { createSpamsyncNode, type SpamsyncNode } from '../../../src/net/libp2p-node.js'
import { generateClusterKey } from '../../../src/net/cluster-key.js'
import { UploadService, uploadTo, UPLOAD_PROTOCOL, type UploadTarget } from '../../../src/protocol/upload-service.js'
import { TrafficCounter } from '../../../src/protocol/traffic.js'
import { CHUNK_BYTES, RESULT_WAIT_BYTES } from '../../../src/protocol/transfer.js'
import { ArchiveKind, Status, UploadReady, UploadRequest, type Hello } from '../../../src/pb/spamsync.js'
import { LOCAL_VERSIONS } from '../../../src/protocol/compat.js'
import { ArchiveError } from '../../../src/errors.js'
import { waitFor } from '../../helpers/agents.js'

/** A slave connected to a master whose upload service (and its traffic) the test can watch. */
async function pair (t: any, target: UploadTarget): Promise<{ slave: SpamsyncNode, master: SpamsyncNode, service: UploadService, received: TrafficCounter }> {
  const key = generateClusterKey()
  const make = async (): Promise<SpamsyncNode> => await createSpamsyncNode({ privateKey: await generateKeyPair('Ed25519'), clusterKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false })
  const master = await make()
  const slave = await make()
  const received = new TrafficCounter()
  const service = new UploadService(master, target, received)
  await service.start()
  t.after(async () => { await service.stop(); await slave.stop(); await master.stop() })
  await slave.dial(master.getMultiaddrs()[0])
  return { slave, master, service, received }
}

/** The uploader names itself: the master refuses a hello that names another node than the connection's. */
const hello = (node: SpamsyncNode): Hello => ({ nodeId: node.peerId.toString(), ...LOCAL_VERSIONS })

test('an interrupted upload resumes from the bytes the master already holds', async (t) => {
  const merged: Uint8Array[] = []
  const { slave, master, service, received } = await pair(t, {
    refusal: () => null,
    needsFull: () => false,
    merge: async (_node, zip) => { merged.push(zip); return { term: 1, seq: 2 } }
  })
  const zip = randomBytes(4 * CHUNK_BYTES + 1234)

  // First attempt: request, then two chunks, then the connection's stream dies.
  const stream = await slave.dialProtocol(master.peerId, UPLOAD_PROTOCOL)
  const lp = lpStream(stream)
  await lp.write(UploadRequest.encode({ hello: hello(slave), kind: ArchiveKind.FULL, baseTerm: 0, baseLseq: 0, size: zip.byteLength, sha256: createHash('sha256').update(zip).digest() }))
  assert.equal(UploadReady.decode((await lp.read()).subarray()).offset, 0)
  const requestBytes = received.bytesReceived
  await lp.write(zip.subarray(0, CHUNK_BYTES))
  await lp.write(zip.subarray(CHUNK_BYTES, 2 * CHUNK_BYTES))
  await waitFor('the master to hold both chunks', () => received.bytesReceived - requestBytes === 2 * CHUNK_BYTES)
  stream.abort(new Error('cable pulled'))
  await waitFor('the master to keep the cut-off upload', () => service.held.cutOff === 1)

  const traffic = new TrafficCounter()
  const offsets: number[] = []
  const outcome = await uploadTo(slave, master.peerId, { hello: hello(slave), kind: ArchiveKind.FULL, baseTerm: 0, baseLseq: 0 }, zip, traffic, (done) => { offsets.push(done) })
  assert.equal(offsets[0], 2 * CHUNK_BYTES, 'the master named the bytes it held as the offset')
  assert.equal(outcome.status, Status.OK)
  assert.deepEqual(outcome.version, { term: 1, seq: 2 })
  assert.equal(merged.length, 1)
  assert.ok(Buffer.from(merged[0]).equals(zip), 'the master merged exactly the archive')
  assert.ok(traffic.bytesSent < zip.byteLength - CHUNK_BYTES, `resumed upload sent ${traffic.bytesSent} of ${zip.byteLength} bytes`)
})

test('an archive the master cannot read is answered BAD_ARCHIVE with the reason', async (t) => {
  const { slave, master } = await pair(t, {
    refusal: () => null,
    needsFull: () => false,
    merge: async () => { throw new ArchiveError('not a zip') }
  })
  const outcome = await uploadTo(slave, master.peerId, { hello: hello(slave), kind: ArchiveKind.FULL, baseTerm: 0, baseLseq: 0 }, randomBytes(100), new TrafficCounter())
  assert.equal(outcome.status, Status.BAD_ARCHIVE)
  assert.match(outcome.reason, /ArchiveError: not a zip/)
})

test('a refused upload sends no archive bytes', async (t) => {
  const { slave, master } = await pair(t, {
    refusal: () => 'not master (master is someone-else)',
    needsFull: () => false,
    merge: async () => { throw new Error('must not be called') }
  })
  const traffic = new TrafficCounter()
  const outcome = await uploadTo(slave, master.peerId, { hello: hello(slave), kind: ArchiveKind.FULL, baseTerm: 0, baseLseq: 0 }, randomBytes(3 * CHUNK_BYTES), traffic)
  assert.equal(outcome.status, Status.REFUSED)
  assert.equal(outcome.reason, 'not master (master is someone-else)')
  assert.ok(traffic.bytesSent < 1000)
})

test('a delta on a base the master does not know is answered NEED_FULL', async (t) => {
  const { slave, master } = await pair(t, {
    refusal: () => null,
    needsFull: () => true,
    merge: async () => { throw new Error('must not be called') }
  })
  const outcome = await uploadTo(slave, master.peerId, { hello: hello(slave), kind: ArchiveKind.DELTA, baseTerm: 3, baseLseq: 10 }, randomBytes(10), new TrafficCounter())
  assert.equal(outcome.status, Status.NEED_FULL)
})

test('a retry of an upload the master received whole sends no archive bytes and gets that merge\'s result', async (t) => {
  let merges = 0
  let finish = (): void => {}
  let mergeStarted = (): void => {}
  const started = new Promise<void>(resolve => { mergeStarted = resolve })
  const { slave, master } = await pair(t, {
    refusal: () => null,
    needsFull: () => false,
    merge: async () => {
      merges++
      const finished = new Promise<void>(resolve => { finish = resolve })
      mergeStarted()
      await finished
      return { term: 1, seq: 3 }
    }
  })
  const zip = randomBytes(2 * CHUNK_BYTES + 99)

  // First attempt: every byte sent, then the slave gives up waiting for the result of the merge.
  const stream = await slave.dialProtocol(master.peerId, UPLOAD_PROTOCOL)
  const lp = lpStream(stream)
  await lp.write(UploadRequest.encode({ hello: hello(slave), kind: ArchiveKind.FULL, baseTerm: 0, baseLseq: 0, size: zip.byteLength, sha256: createHash('sha256').update(zip).digest() }))
  assert.equal(UploadReady.decode((await lp.read()).subarray()).offset, 0)
  await lp.write(zip.subarray(0, CHUNK_BYTES))
  await lp.write(zip.subarray(CHUNK_BYTES))
  await started
  stream.abort(new Error('gave up waiting'))

  const traffic = new TrafficCounter()
  // The master answers the retry's request with the whole size as offset: it joined the merge under way.
  let joined = (): void => {}
  const joinedMerge = new Promise<void>(resolve => { joined = resolve })
  const retry = uploadTo(slave, master.peerId, { hello: hello(slave), kind: ArchiveKind.FULL, baseTerm: 0, baseLseq: 0 }, zip, traffic, (done, total) => { if (done === total) joined() })
  await joinedMerge
  finish()
  const outcome = await retry
  assert.equal(outcome.status, Status.OK)
  assert.deepEqual(outcome.version, { term: 1, seq: 3 })
  assert.equal(merges, 1, 'the archive was merged once')
  assert.ok(traffic.bytesSent < 1024, `the retry sent ${traffic.bytesSent} bytes`)
})

test('the uploader waits for the result of a large upload\'s merge longer than for a read', async (t) => {
  // The result is waited for 4 read timeouts; the merge takes 3.
  const readTimeoutMs = 1000
  const zip = randomBytes(3 * RESULT_WAIT_BYTES)
  const mergeMs = 3 * readTimeoutMs
  const { slave, master } = await pair(t, {
    refusal: () => null,
    needsFull: () => false,
    merge: async () => {
      await new Promise(resolve => setTimeout(resolve, mergeMs))
      return { term: 1, seq: 4 }
    }
  })
  const outcome = await uploadTo(slave, master.peerId, { hello: hello(slave), kind: ArchiveKind.FULL, baseTerm: 0, baseLseq: 0 }, zip, new TrafficCounter(), undefined, readTimeoutMs)
  assert.equal(outcome.status, Status.OK)
  assert.deepEqual(outcome.version, { term: 1, seq: 4 })
})
