/**
 * A peer that holds the cluster key (a buggy or compromised node) uploads hostile archives to the
 * master of three agents running in this process. The master refuses each with its named reason,
 * shows it in status, changes nothing, and keeps serving the other slaves.
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { Agent } from '../../../src/agent.js'
import { readClusterKey } from '../../../src/net/cluster-key.js'
import { createSpamsyncNode, type SpamsyncNode } from '../../../src/net/libp2p-node.js'
import { uploadTo, UPLOAD_PROTOCOL } from '../../../src/protocol/upload-service.js'
import { TrafficCounter } from '../../../src/protocol/traffic.js'
import { LOCAL_VERSIONS } from '../../../src/protocol/compat.js'
import { ArchiveKind, Status, UploadReady, UploadRequest, UploadResult } from '../../../src/pb/spamsync.js'
import { waitFor } from '../../helpers/agents.js'
import { InProcessCluster, listKeys } from '../../helpers/in-process.js'
import { EVIL_KEY, goodArchive, hostileArchives } from '../../helpers/hostile-archives.js'

describe('a peer with the key uploads hostile archives to the master', { timeout: 180_000 }, () => {
  let cluster: InProcessCluster
  const agents: Agent[] = []
  let hostile: SpamsyncNode
  let master: Agent

  before(async () => {
    cluster = await InProcessCluster.create('hostile')
    for (let i = 0; i < 3; i++) agents.push(await cluster.start({}, { 'blacklist.txt': i === 0 ? 'honest.example\n' : '' }))
    hostile = await createSpamsyncNode({ privateKey: await generateKeyPair('Ed25519'), clusterKey: await readClusterKey(cluster.keyFile), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false })
    master = await cluster.oneMaster()
    await waitFor('every node has the honest entry', async () => {
      for (const a of agents) if (!(await listKeys(a, 'blacklist')).includes('honest.example')) return false
      return true
    })
    await hostile.dial(multiaddr((master.status().listen)[0]))
  })

  after(async () => {
    await hostile?.stop()
    await cluster?.stop()
  })

  const hello = (): { nodeId: string, protocolVersion: number, schemaVersion: number, agentVersion: string } => ({ nodeId: hostile.peerId.toString(), ...LOCAL_VERSIONS })

  async function snapshot (): Promise<{ version: string, files: string[] }> {
    return {
      version: JSON.stringify(master.engine.version),
      files: await Promise.all(agents.map(async a => (await listKeys(a, 'blacklist')).join(',')))
    }
  }

  test('each hostile archive is answered BAD_ARCHIVE with its named error, shown in status, and changes nothing', async () => {
    const cases = hostileArchives(hostile.peerId.toString())
    for (const h of cases) {
      const before = await snapshot()
      // A repeated error is one entry whose count rises (error-log.ts): count new and raised entries.
      const countsBefore = new Map(master.engine.errors.map(e => [e, e.count]))
      const outcome = await uploadTo(hostile, peerIdFromString(master.nodeId), { hello: hello(), kind: ArchiveKind.FULL, baseTerm: 0, baseLseq: 0 }, h.zip, new TrafficCounter())
      assert.equal(outcome.status, Status.BAD_ARCHIVE, `${h.what}: ${outcome.reason}`)
      assert.match(outcome.reason, new RegExp(`^${h.error}: `), h.what)
      const reported = master.engine.errors.filter(e => (countsBefore.get(e) ?? 0) < e.count)
      assert.equal(reported.length, 1, `${h.what}: one error in status`)
      assert.equal(reported[0].what, `upload from ${hostile.peerId.toString()}`)
      assert.match(reported[0].message, new RegExp(`^${h.error}: `))
      assert.deepEqual(await snapshot(), before, `${h.what} changed nothing`)
    }
    assert.ok(cases.length >= 13)
  })

  test('bytes whose sha256 differs from the upload request are refused before the archive is opened', async () => {
    const zip = goodArchive(hostile.peerId.toString())
    const before = await snapshot()
    const stream = await hostile.dialProtocol(peerIdFromString(master.nodeId), UPLOAD_PROTOCOL)
    const lp = lpStream(stream)
    const wrongHash = createHash('sha256').update('something else').digest()
    await lp.write(UploadRequest.encode({ hello: hello(), kind: ArchiveKind.FULL, baseTerm: 0, baseLseq: 0, size: zip.byteLength, sha256: wrongHash }))
    assert.equal(UploadReady.decode((await lp.read()).subarray()).status, Status.OK)
    await lp.write(zip)
    const result = UploadResult.decode((await lp.read()).subarray())
    await stream.close()
    assert.equal(result.status, Status.BAD_ARCHIVE)
    assert.match(result.reason, /sha256 of the received bytes differs/)
    assert.deepEqual(await snapshot(), before)
  })

  test('an upload whose hello names another node than the connection\'s is refused and changes nothing', async () => {
    const victim = agents.find(a => a !== master)!
    const before = await snapshot()
    const outcome = await uploadTo(hostile, peerIdFromString(master.nodeId), { hello: { ...hello(), nodeId: victim.nodeId }, kind: ArchiveKind.FULL, baseTerm: 0, baseLseq: 0 }, goodArchive(victim.nodeId), new TrafficCounter())
    assert.equal(outcome.status, Status.REFUSED)
    assert.match(outcome.reason, /hello names node .* but the connection is from/)
    assert.deepEqual(await snapshot(), before)
  })

  test('the master keeps serving: a slave change still reaches every node, and no node has the evil entry', async () => {
    const slave = agents.find(a => a !== master)!
    await writeFile(join(slave.config.settingsDir, 'blacklist.txt'), 'honest.example\nafter-attack.example\n')
    await waitFor('every node has the change made after the attack', async () => {
      for (const a of agents) if (!(await listKeys(a, 'blacklist')).includes('after-attack.example')) return false
      return true
    })
    for (const a of agents) assert.ok(!(await listKeys(a, 'blacklist')).includes(EVIL_KEY))
  })

  test('control: the same peer with a well-formed archive is merged (the refusals were for the faults)', async () => {
    const outcome = await uploadTo(hostile, peerIdFromString(master.nodeId), { hello: hello(), kind: ArchiveKind.FULL, baseTerm: 0, baseLseq: 0 }, goodArchive(hostile.peerId.toString()), new TrafficCounter())
    assert.equal(outcome.status, Status.OK, outcome.reason)
    await waitFor('the evil entry of the good archive reaches a slave', async () => (await listKeys(agents.find(a => a !== master)!, 'blacklist')).includes(EVIL_KEY))
  })
})
