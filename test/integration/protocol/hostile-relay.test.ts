/**
 * A hostile relay against real agent processes (election-v1.md, "Relayed heartbeat"): a keyed
 * peer that joins as a slave, so the master's signed heartbeat is passed to it along the relay
 * tree, and then alters, re-signs, replays and holds back the copies it should pass on. The
 * master's word must stay its own: an altered copy or one signed by another key is dropped with
 * a named error and changes no member's term or master; once the master is killed, replayed and
 * held-back copies of its beacons do not keep it master.
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import type { PrivateKey, Stream } from '@libp2p/interface'
import { Beacon, Pin, Role } from '../../../src/pb/spamsync.js'
import { AGENT_VERSION, PROTOCOL_VERSION, SCHEMA_VERSION } from '../../../src/constants.js'
import { BEACON_PROTOCOL, MAX_BEACON_BYTES } from '../../../src/protocol/beacon-link.js'
import { ed25519Signer, signedFrame } from '../../../src/protocol/beacon-signature.js'
import { relayTargets } from '../../../src/election/relay-tree.js'
import { readClusterKey } from '../../../src/net/cluster-key.js'
import { createSpamsyncNode, type SpamsyncNode } from '../../../src/net/libp2p-node.js'
import { Cluster, waitFor, type AgentProcess } from '../../helpers/agents.js'

/** What the hostile peer holds: the master's signed frames it got, and those it held back from a child. */
interface Hoard { taken: Uint8Array[], withheld: Uint8Array[] }

describe('a hostile relay cannot forge or freeze the master\'s word (real processes)', { timeout: 240_000 }, () => {
  let cluster: Cluster
  let master: AgentProcess
  let members: AgentProcess[]
  let key: PrivateKey
  let hostile: SpamsyncNode
  let hostileId: string
  const links = new Map<string, LengthPrefixedStream<Stream>>()
  const hoard: Hoard = { taken: [], withheld: [] }
  /** Read loops of the links the agents opened to the hostile peer, ended when a process stops. */
  const ended: unknown[] = []
  let ownBeacons: NodeJS.Timeout | undefined
  let beat = 0

  /** The hostile peer's own beacon: a pinned slave of `masterId` that relays (it carries a beat). */
  function ownBeacon (masterId: string, term: number): Uint8Array {
    beat = Math.max(beat + 1, Date.now())
    return Beacon.encode({ nodeId: hostileId, priority: -1000, role: Role.SLAVE, term, masterId, protocolVersion: PROTOCOL_VERSION, schemaVersion: SCHEMA_VERSION, agentVersion: AGENT_VERSION, pin: Pin.PINNED_SLAVE, addrs: [], wallMs: Date.now(), beaconPeriod: 1, longBeaconPeriod: 1, beat })
  }

  async function send (to: AgentProcess, frame: Uint8Array): Promise<void> {
    await links.get(to.nodeId)?.write(frame)
  }

  /** A master frame the relay tree has the hostile peer pass on to one of the members: held back. */
  function take (frame: Uint8Array): void {
    const b = Beacon.decode(frame)
    if (b.nodeId !== master.nodeId || b.signature.byteLength === 0) return
    hoard.taken.push(frame)
    const ids = [master.nodeId, hostileId, ...members.map(m => m.nodeId)].sort()
    if (relayTargets(master.nodeId, hostileId, ids, b.beat).length > 0) hoard.withheld.push(frame)
  }

  before(async () => {
    cluster = await Cluster.create('spamsync-hostile-relay-')
    ;[master, ...members] = await cluster.startAll(3, i => i === 0 ? ['--priority', '10'] : [])
    assert.equal(await cluster.waitForOneMaster(undefined, 60_000), master)
    key = await generateKeyPair('Ed25519')
    hostile = await createSpamsyncNode({ privateKey: key, clusterKey: await readClusterKey(cluster.keyFile), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false })
    hostileId = hostile.peerId.toString()
    await hostile.handle(BEACON_PROTOCOL, (stream) => {
      const lp = lpStream(stream, { maxDataLength: MAX_BEACON_BYTES })
      const read = async (): Promise<void> => { for (;;) take((await lp.read()).subarray().slice()) }
      read().catch((err: unknown) => { ended.push(err) })
    })
    for (const agent of [master, ...members]) {
      const conn = await hostile.dial(multiaddr(agent.multiaddr))
      links.set(agent.nodeId, lpStream(await conn.newStream(BEACON_PROTOCOL), { maxDataLength: MAX_BEACON_BYTES }))
    }
    const { term } = await master.status()
    const tell = async (): Promise<void> => { for (const agent of [master, ...members]) await send(agent, ownBeacon(master.nodeId, term)) }
    ownBeacons = setInterval(() => { tell().catch((err: unknown) => { ended.push(err) }) }, 500)
    await waitFor('the master\'s signed heartbeat to reach the hostile relay', () => hoard.taken.length >= 5 && hoard.withheld.length >= 1, 60_000)
  })

  after(async () => {
    clearInterval(ownBeacons)
    await hostile?.stop()
    await cluster?.cleanup()
  })

  test('an altered copy, and one signed by another key, are dropped with a named error; no member changes term or master', async () => {
    const { term } = await master.status()
    const last = Beacon.decode(hoard.taken.at(-1) as Uint8Array)
    // A newer beat, so the member checks the signature rather than dropping a copy already taken.
    const altered = Beacon.encode({ ...last, term: term + 1, masterId: hostileId, beat: last.beat + 2000 })
    const resigned = signedFrame(Beacon.encode({ ...last, term: term + 1, beat: last.beat + 3000, signature: new Uint8Array(0) }), ed25519Signer(key.raw))
    for (const m of members) {
      await send(m, altered)
      await send(m, resigned)
    }
    for (const m of members) {
      const s = await waitFor(`${m.nodeId} to name the forged copies`, async () => {
        const st = await m.status()
        const named = st.errors.filter((e: { message: string }) => e.message.includes('the signature is not'))
        return named.reduce((sum: number, e: { count: number }) => sum + e.count, 0) >= 2 ? st : null
      })
      assert.equal(s.term, term)
      assert.equal(s.masterId, master.nodeId)
      assert.equal(s.role, 'slave')
    }
  })

  test('the master killed: its replayed and held-back copies do not keep it master, the others elect a new one', async () => {
    const { term } = await master.status()
    clearInterval(ownBeacons)
    await master.kill9()
    let replays = 0
    const replay = setInterval(() => {
      const frames = [...hoard.taken.slice(-5), ...hoard.withheld]
      Promise.all(members.map(async m => { for (const f of frames) await send(m, f) })).then(() => { replays++ }, (err: unknown) => { ended.push(err) })
    }, 200)
    try {
      const next = await cluster.waitForOneMaster(members, 60_000)
      assert.notEqual(next.nodeId, master.nodeId)
      const statuses = await Promise.all(members.map(async m => await m.status()))
      for (const s of statuses) assert.ok(s.term > term, `term ${s.term} after the master's ${term}`)
      assert.ok(replays > 0, 'the relay replayed the dead master\'s copies while the others chose')
    } finally {
      clearInterval(replay)
    }
  })
})
