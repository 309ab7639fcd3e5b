/**
 * The hostile-peer fuzzer: one long-lived cluster of agents in this process, and one libp2p node
 * that holds the cluster key (a compromised member) and sends each generated case
 * (hostile-messages.ts): beacons, uploads, fetches, control requests, and the answers it gives
 * when an agent uploads to it or fetches from it. After every case: no uncaught exception or
 * unhandled rejection (in a process of its own, either would have ended an agent), every agent
 * still builds its status, no agent holds Bayes counts in an honest node's name (honest nodes
 * learn nothing here, so such counts are forged), and the heap stays within a bound. Every `convergeEvery` cases and at
 * the end: an edit an operator makes on an honest node reaches every honest node (when the
 * hostile peer leads the election, it leaves first, as a failed master would, and comes back after).
 */
import { createHash } from 'node:crypto'
import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import type { PrivateKey, Stream } from '@libp2p/interface'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Agent } from '../../src/agent.js'
import type { LocalState } from '../../src/local-state.js'
import { readClusterKey } from '../../src/net/cluster-key.js'
import { createSpamsyncNode, type SpamsyncNode } from '../../src/net/libp2p-node.js'
import { BEACON_PROTOCOL } from '../../src/protocol/beacon-link.js'
import { UPLOAD_PROTOCOL } from '../../src/protocol/upload-service.js'
import { FETCH_PROTOCOL } from '../../src/protocol/fetch-service.js'
import { CONTROL_PROTOCOL } from '../../src/protocol/control-service.js'
import { CHUNK_BYTES } from '../../src/protocol/transfer.js'
import { FetchRequest, FetchResponse, Status, UploadReady, UploadRequest, UploadResult } from '../../src/pb/spamsync.js'
import { waitFor } from './agents.js'
import { InProcessCluster, listKeys } from './in-process.js'
import { encodeFrame, encodeMessage, SCHEMAS, type Frame, type HostileContext } from './hostile-fields.js'
import { bodyBytes } from './hostile-archive-specs.js'
import { HELD, hostileCase, type Answers, type HostileCase, type Target } from './hostile-messages.js'

/** How long the hostile peer waits for an agent's answer; a case that waits longer is counted, not failed. */
const ANSWER_TIMEOUT_MS = 5_000

/** Largest growth of the heap over its size after start-up. */
export const HEAP_BOUND_BYTES = 384 * 1024 * 1024

/** How long an honest edit may take to reach every honest node. */
const CONVERGE_TIMEOUT_MS = 30_000

/** What the hostile peer answers before a case sets its answers: a refusal (status 1, REFUSED). */
const REFUSE: Answers = {
  uploadReady: { msg: { status: 1n } },
  uploadResult: { msg: { status: 1n } },
  fetchResponse: { msg: { status: 1n } },
  fetchBody: { raw: new Uint8Array(0) }
}

/** A failed case check: what broke. */
export class HostileFuzzFailure extends Error {}

/** The cluster, the hostile peer and the checks. */
export class HostilePeerFuzz {
  readonly ctx: HostileContext
  private answers: Answers = REFUSE
  private readonly faults: string[] = []
  private readonly onFault = (err: unknown): void => { this.faults.push(err instanceof Error ? (err.stack ?? err.message) : String(err)) }
  private readonly heapBase = process.memoryUsage().heapUsed
  /** Largest heap growth seen after a case. */
  maxHeapGrowth = 0
  /** Convergence checks passed. */
  converged = 0
  /** Times the hostile peer led the election at a check and left for it. */
  hostileLeft = 0

  private constructor (
    private readonly cluster: InProcessCluster,
    readonly agents: Agent[],
    private readonly key: PrivateKey,
    private hostile: SpamsyncNode | null
  ) {
    this.ctx = { hostileId: peerIdFromPrivateKey(key).toString(), honestIds: agents.map(a => a.nodeId) }
    // Captured, not only listened to: the case that caused it fails with the cases before it.
    process.setUncaughtExceptionCaptureCallback(this.onFault)
    process.on('unhandledRejection', this.onFault)
  }

  /** Starts `n` agents (the first with one blacklist entry) and the hostile peer linked to all. */
  static async start (n = 3): Promise<HostilePeerFuzz> {
    const cluster = await InProcessCluster.create('hostile-fuzz')
    let fuzz: HostilePeerFuzz | undefined
    try {
      for (let i = 0; i < n; i++) await cluster.start({}, { 'blacklist.txt': i === 0 ? 'honest.example\n' : '' })
      await cluster.oneMaster()
      fuzz = new HostilePeerFuzz(cluster, cluster.agents, await generateKeyPair('Ed25519'), null)
      await fuzz.hostileJoins()
      return fuzz
    } catch (err) {
      await (fuzz ?? cluster).stop()
      throw err
    }
  }

  async stop (): Promise<void> {
    try {
      await this.hostile?.stop()
      await this.cluster.stop()
    } finally {
      process.setUncaughtExceptionCaptureCallback(null)
      process.off('unhandledRejection', this.onFault)
    }
  }

  /** Runs one case; returns what it ended with (for the counts), never throws for the agents' refusals. */
  async run (c: HostileCase): Promise<string> {
    try {
      switch (c.kind) {
        case 'beacons': return await this.beacons(c.to, c.frames)
        case 'upload': return await this.upload(c)
        case 'fetch': return await this.fetch(c.to, c.request, c.readArchive)
        case 'control': return await this.control(c.to, c.request)
        case 'answers': this.answers = c.answers; return 'answers set'
      }
    } catch (err) {
      // The agent closed the stream, refused the protocol or did not answer in time.
      return `${c.kind}: ${err instanceof Error ? err.name : 'error'}`
    }
  }

  /** The checks after every case. */
  check (): void {
    if (this.faults.length > 0) throw new HostileFuzzFailure(`an agent would have exited: ${this.faults.splice(0).join('\n---\n')}`)
    for (const a of this.agents) {
      try {
        JSON.stringify(a.status())
      } catch (err) {
        throw new HostileFuzzFailure(`status of ${a.nodeId} failed: ${String(err)}`)
      }
    }
    // Honest nodes learn no mail here: a Bayes count in an honest node's name can only be forged.
    for (const a of this.agents) {
      const { bayes } = (a as unknown as { state: LocalState }).state
      const forged = bayes.contributions().filter(c => this.ctx.honestIds.includes(c.nodeId) && (c.db.numSpam > 0 || c.db.numHam > 0 || c.db.tokens.keys.length > 0 || c.db.seen.size > 0))
      if (forged.length > 0) throw new HostileFuzzFailure(`${a.nodeId} holds Bayes counts in the name of ${forged.map(c => c.nodeId).join(', ')}, which learned nothing: forged by the hostile peer`)
    }
    const growth = process.memoryUsage().heapUsed - this.heapBase
    this.maxHeapGrowth = Math.max(this.maxHeapGrowth, growth)
    if (growth > HEAP_BOUND_BYTES) throw new HostileFuzzFailure(`heap grew by ${Math.round(growth / 2 ** 20)} MiB, the bound is ${HEAP_BOUND_BYTES / 2 ** 20} MiB`)
  }

  /** An operator's edit on one honest node reaches every honest node. */
  async converge (): Promise<void> {
    const led = this.agents.some(a => a.election.masterId === this.ctx.hostileId)
    if (led) {
      this.hostileLeft++
      await this.hostile?.stop()
      this.hostile = null
    }
    const n = this.converged
    const writer = this.agents[n % this.agents.length]
    const key = `edit${n}.converge.example`
    await appendFile(join(writer.config.settingsDir, 'blacklist.txt'), `${key}\n`)
    try {
      await waitFor(`the honest edit ${key} on every honest node`, async () => {
        for (const a of this.agents) if (!(await listKeys(a, 'blacklist')).includes(key)) return false
        return true
      }, CONVERGE_TIMEOUT_MS)
    } catch (err) {
      // A crash meanwhile is the cause to report, not the edit that could not spread after it.
      this.check()
      const state = this.agents.map(a => `${a.nodeId.slice(-6)}: ${a.election.role} term ${a.election.term} master ${a.election.masterId?.slice(-6) ?? '-'} applied ${JSON.stringify(a.engine.appliedVersion)} errors ${JSON.stringify(a.engine.errors.slice(-3))}`)
      throw new HostileFuzzFailure(`${String(err)}\n${state.join('\n')}`)
    }
    this.converged++
    if (this.hostile === null) await this.hostileJoins()
  }

  private async hostileJoins (): Promise<void> {
    const node = await createSpamsyncNode({ privateKey: this.key, clusterKey: await readClusterKey(this.cluster.keyFile), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false })
    await node.handle(BEACON_PROTOCOL, (stream) => { drain(stream).catch((err) => { stream.abort(err) }) })
    await node.handle(UPLOAD_PROTOCOL, (stream) => { this.answerUpload(stream).catch((err) => { stream.abort(err) }) })
    await node.handle(FETCH_PROTOCOL, (stream) => { this.answerFetch(stream).catch((err) => { stream.abort(err) }) })
    for (const a of this.agents) await node.dial(multiaddr((a.status().listen)[0]))
    this.hostile = node
  }

  private agent (to: Target): Agent {
    return to === 'master' ? this.agents.find(a => a.election.role === 'master') ?? this.agents[0] : this.agents[to]
  }

  private async open (to: Target, protocol: string): Promise<{ stream: Stream, lp: LengthPrefixedStream<Stream> }> {
    if (this.hostile === null) throw new Error('the hostile peer is not running')
    const stream = await this.hostile.dialProtocol(peerIdFromString(this.agent(to).nodeId), protocol, { signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS) })
    return { stream, lp: lpStream(stream, { maxDataLength: 2 * CHUNK_BYTES }) }
  }

  private async beacons (to: number[], frames: Frame[]): Promise<string> {
    for (const i of to) {
      const { stream, lp } = await this.open(i, BEACON_PROTOCOL)
      await lp.writeV(frames.map(f => encodeFrame('Beacon', f)), { signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS) })
      await stream.close({ signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS) })
    }
    return 'beacons sent'
  }

  private async upload (c: Extract<HostileCase, { kind: 'upload' }>): Promise<string> {
    const zip = bodyBytes(c.body, this.ctx)
    const msg = 'raw' in c.request ? null : { ...c.request.msg, size: c.request.msg.size ?? BigInt(zip.byteLength), sha256: c.request.msg.sha256 ?? createHash('sha256').update(zip).digest() }
    const { stream, lp } = await this.open(c.to, UPLOAD_PROTOCOL)
    try {
      await lp.write(msg === null ? encodeFrame('UploadRequest', c.request) : encodeMessage(SCHEMAS.UploadRequest, msg))
      const ready = UploadReady.decode(await read(lp))
      if (ready.status !== Status.OK) return `upload: ${ready.status} (${ready.reason.split(/[ :]/)[0]})`
      const end = c.cutAt === null ? zip.byteLength : Math.floor(zip.byteLength * c.cutAt)
      for (let at = ready.offset; at < end; at += CHUNK_BYTES) await lp.write(zip.subarray(at, Math.min(end, at + CHUNK_BYTES)))
      // Fewer bytes than declared: the master would wait for the rest, so the sender hangs up.
      if (msg === null || end !== zip.byteLength || msg.size !== BigInt(zip.byteLength)) return 'upload: cut off'
      const result = UploadResult.decode(await read(lp))
      return `upload: ${result.status}`
    } finally {
      stream.abort(new Error('case over'))
    }
  }

  private async fetch (to: Target, request: Frame, readArchive: boolean): Promise<string> {
    const { stream, lp } = await this.open(to, FETCH_PROTOCOL)
    try {
      await lp.write(encodeFrame('FetchRequest', this.resolveHeld(to, request)))
      const response = FetchResponse.decode(await read(lp))
      if (response.status === Status.OK && readArchive) {
        for (let got = 0; got < response.size;) got += (await read(lp)).byteLength
      }
      return `fetch: ${response.status}`
    } finally {
      stream.abort(new Error('case over'))
    }
  }

  /** A fetch request that names the full archive `to` announces (HELD) names it by its version, size and sha256. */
  private resolveHeld (to: Target, request: Frame): Frame {
    if (!('msg' in request) || request.msg.archive !== HELD) return request
    const held = this.agent(to).engine.fullArchive
    const archive = held === null ? undefined : { version: { term: BigInt(held.version.term), seq: BigInt(held.version.seq) }, size: BigInt(held.size), sha256: held.sha256 }
    return { msg: { ...request.msg, archive } }
  }

  private async control (to: Target, request: string): Promise<string> {
    const { stream, lp } = await this.open(to, CONTROL_PROTOCOL)
    try {
      await lp.write(new TextEncoder().encode(request))
      const answer = JSON.parse(new TextDecoder().decode(await read(lp))) as { ok: boolean, error?: string }
      return `control: ${answer.ok ? 'ok' : answer.error ?? '?'}`
    } finally {
      stream.abort(new Error('case over'))
    }
  }

  /** An agent uploads to the hostile peer (it follows it as master): the case's answers. */
  private async answerUpload (stream: Stream): Promise<void> {
    const lp = lpStream(stream, { maxDataLength: 2 * CHUNK_BYTES })
    const { uploadReady, uploadResult } = this.answers
    const req = UploadRequest.decode(await read(lp))
    await lp.write(encodeFrame('UploadReady', uploadReady))
    if ('msg' in uploadReady && (uploadReady.msg.status ?? 0n) === 0n) {
      for (let got = 0; got < req.size;) got += (await read(lp)).byteLength
    }
    await lp.write(encodeFrame('UploadResult', uploadResult))
    await stream.close()
  }

  /** An agent fetches from the hostile peer: the case's answer, then its body in chunks. */
  private async answerFetch (stream: Stream): Promise<void> {
    const lp = lpStream(stream, { maxDataLength: 2 * CHUNK_BYTES })
    const { fetchResponse, fetchBody } = this.answers
    FetchRequest.decode(await read(lp))
    const zip = bodyBytes(fetchBody, this.ctx)
    await lp.write('raw' in fetchResponse
      ? fetchResponse.raw
      : encodeMessage(SCHEMAS.FetchResponse, { ...fetchResponse.msg, size: fetchResponse.msg.size ?? BigInt(zip.byteLength), sha256: fetchResponse.msg.sha256 ?? createHash('sha256').update(zip).digest() }))
    for (let at = 0; at < zip.byteLength; at += CHUNK_BYTES) await lp.write(zip.subarray(at, at + CHUNK_BYTES))
    await stream.close()
  }
}

async function read (lp: LengthPrefixedStream<Stream>): Promise<Uint8Array> {
  return (await lp.read({ signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS) })).subarray()
}

/** Reads and drops the beacons agents send to the hostile peer. */
async function drain (stream: Stream): Promise<void> {
  const lp = lpStream(stream, { maxDataLength: 64 * 1024 })
  for (;;) await lp.read()
}

/** What a run of the fuzzer saw. */
export interface HostileFuzzResult {
  cases: number
  seed: number
  outcomes: Record<string, number>
  convergenceChecks: number
  hostileLeft: number
  maxHeapGrowthMiB: number
  ms: number
}

/** A case as text for a failure report, cut (strings of 8 KiB are among the values). */
function showCase (c: HostileCase): string {
  const s = fc.stringify(c)
  return s.length > 800 ? `${s.slice(0, 800)}... (${s.length} characters)` : s
}

/**
 * Runs `runs` generated cases with `seed` against one cluster; converges every `convergeEvery`
 * cases and at the end. Throws fast-check's report (seed, the failing case and the cases since
 * the last convergence check) on the first failed check. No shrinking: the cluster carries what
 * every earlier case did, so a smaller case on it would not replay the same state.
 */
export async function fuzzHostilePeer (opts: { runs: number, seed: number, convergeEvery?: number, agents?: number }): Promise<HostileFuzzResult> {
  const started = performance.now()
  const convergeEvery = opts.convergeEvery ?? 50
  const fuzz = await HostilePeerFuzz.start(opts.agents)
  try {
    const outcomes = new Map<string, number>()
    let since: HostileCase[] = []
    let n = 0
    const withCases = (err: unknown): HostileFuzzFailure =>
      new HostileFuzzFailure(`${err instanceof Error ? err.message : String(err)}\nafter case ${n} of seed ${opts.seed}; the ${since.length} cases since the last convergence check, oldest first:\n${since.map(showCase).join('\n')}`)
    await fc.assert(fc.asyncProperty(hostileCase(fuzz.ctx), async (c) => {
      n++
      since.push(c)
      const outcome = await fuzz.run(c)
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
      try {
        fuzz.check()
        if (n % convergeEvery === 0) {
          await fuzz.converge()
          since = []
        }
      } catch (err) {
        throw withCases(err)
      }
    }), { numRuns: opts.runs, seed: opts.seed, endOnFailure: true, includeErrorInReport: true })
    try {
      await fuzz.converge()
      fuzz.check()
    } catch (err) {
      throw withCases(err)
    }
    return {
      cases: n,
      seed: opts.seed,
      outcomes: Object.fromEntries([...outcomes].sort()),
      convergenceChecks: fuzz.converged,
      hostileLeft: fuzz.hostileLeft,
      maxHeapGrowthMiB: Math.round(fuzz.maxHeapGrowth / 2 ** 20),
      ms: Math.round(performance.now() - started)
    }
  } finally {
    await fuzz.stop()
  }
}
