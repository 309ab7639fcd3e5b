/**
 * A peer that holds the cluster key uploads Bayes contributions in other nodes' names to the
 * master of two agents running in this process. An upload speaks only for its uploader: the master
 * refuses one that plants counts under another node's id (a delta, or a full upload that would
 * grow a live node's contribution) with ForgedContributionError, shows it in status as
 * `upload from <node>`, and merges nothing; a full upload may hand over the contribution of a node
 * that is not live (a former master's state), and the uploader's own contribution is merged.
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString, peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Agent } from '../../../src/agent.js'
import { readClusterKey } from '../../../src/net/cluster-key.js'
import { createSpamsyncNode, type SpamsyncNode } from '../../../src/net/libp2p-node.js'
import { uploadTo } from '../../../src/protocol/upload-service.js'
import { TrafficCounter } from '../../../src/protocol/traffic.js'
import { LOCAL_VERSIONS } from '../../../src/protocol/compat.js'
import { buildSettingsArchive } from '../../../src/sync/settings-archive.js'
import { tokensOf } from '../../../src/crdt/bayes-counters.js'
import { ArchiveKind, Status } from '../../../src/pb/spamsync.js'
import type { BayesContribution } from '../../../src/archive/bayes-codec.js'
import { InProcessCluster } from '../../helpers/in-process.js'

/** A contribution of `nodeId` that learned one spam with token aaaaaaaaaa `count` times. */
function contribution (nodeId: string, count: number): BayesContribution {
  return { nodeId, db: { numSpam: count, numHam: 0, tokens: tokensOf([['aaaaaaaaaa', { spam: count, ham: 0, atime: 1_700_000_000 }]]), seen: new Map() } }
}

describe('a peer with the key uploads Bayes contributions in other nodes\' names', { timeout: 120_000 }, () => {
  let cluster: InProcessCluster
  let hostile: SpamsyncNode
  let master: Agent
  let victim: Agent

  before(async () => {
    cluster = await InProcessCluster.create('forged')
    for (let i = 0; i < 2; i++) await cluster.start()
    master = await cluster.oneMaster()
    victim = cluster.agents.find(a => a !== master)!
    hostile = await createSpamsyncNode({ privateKey: await generateKeyPair('Ed25519'), clusterKey: await readClusterKey(cluster.keyFile), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false })
    await hostile.dial(multiaddr((master.status().listen)[0]))
  })

  after(async () => {
    await hostile?.stop()
    await cluster?.stop()
  })

  const upload = async (kind: 'full' | 'delta', contribs: BayesContribution[]): Promise<{ status: Status, reason: string }> => {
    const id = hostile.peerId.toString()
    const zip = buildSettingsArchive({ kind, origin: id, base: kind === 'full' ? null : master.engine.version, version: null }, new Map(), contribs)
    return await uploadTo(hostile, peerIdFromString(master.nodeId), {
      hello: { nodeId: id, ...LOCAL_VERSIONS }, kind: kind === 'full' ? ArchiveKind.FULL : ArchiveKind.DELTA, baseTerm: master.election.term, baseLseq: 0
    }, zip, new TrafficCounter())
  }
  const contributors = (): number => (master.status().datasets as any).bayes.contributors

  async function assertRefused (kind: 'full' | 'delta', contribs: BayesContribution[]): Promise<void> {
    const version = JSON.stringify(master.engine.version)
    const before = contributors()
    const errorsBefore = master.engine.errors.length
    const outcome = await upload(kind, contribs)
    assert.equal(outcome.status, Status.BAD_ARCHIVE, outcome.reason)
    assert.match(outcome.reason, /^ForgedContributionError: /)
    const reported = master.engine.errors.slice(errorsBefore)
    assert.equal(reported.length, 1)
    assert.equal(reported[0].what, `upload from ${hostile.peerId.toString()}`)
    assert.match(reported[0].message, /^ForgedContributionError: /)
    assert.equal(contributors(), before, 'no contribution merged')
    assert.equal(JSON.stringify(master.engine.version), version, 'no version cut')
  }

  test('a full upload that plants counts under a live slave\'s id is refused, nothing merged', async () => {
    await assertRefused('full', [contribution(hostile.peerId.toString(), 1), contribution(victim.nodeId, 10)])
  })

  test('a full upload that plants counts under the master\'s own id is refused', async () => {
    await assertRefused('full', [contribution(master.nodeId, 10)])
  })

  test('the uploader\'s own contribution is merged', async () => {
    const before = contributors()
    const outcome = await upload('full', [contribution(hostile.peerId.toString(), 1)])
    assert.equal(outcome.status, Status.OK, outcome.reason)
    assert.equal(contributors(), before + 1)
  })

  test('a delta that carries another node\'s contribution is refused, even a node that is not live', async () => {
    const offline = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    await assertRefused('delta', [contribution(hostile.peerId.toString(), 2), contribution(offline, 5)])
  })

  test('a full upload hands over the contribution of a node that is not live (a former master\'s state)', async () => {
    const offline = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const before = contributors()
    const outcome = await upload('full', [contribution(hostile.peerId.toString(), 1), contribution(offline, 3)])
    assert.equal(outcome.status, Status.OK, outcome.reason)
    assert.equal(contributors(), before + 1)
  })
})
