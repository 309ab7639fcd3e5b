/**
 * An in-process {@link SyncNetwork}: sync engines of one test process reach each other through
 * direct calls, the way the election tests run on a fake clock and an in-memory topic. It plays
 * the parts of the wire services the engine relies on: the upload service (refusal, NEED_FULL,
 * resume from the bytes a cut stream left, the merge of an upload received whole answered again
 * without its bytes), the fetch service (the size and sha256 check of what arrives) and the
 * beacons (announce reaches every other node at once; holders and awaited read the nodes'
 * offered archives).
 *
 * Faults are injected per call (fail, drop the answer, hold until the test opens a gate, cut an
 * upload stream after some bytes, tamper with a fetch answer) and every call ends in an event
 * the test can wait on, so no test sleeps.
 */
import { createHash } from 'node:crypto'
import { ArchiveError, TransferError } from '../../src/errors.js'
import { Status } from '../../src/pb/spamsync.js'
import { LOCAL_VERSIONS } from '../../src/protocol/compat.js'
import { sameArchive, type ArchiveRef } from '../../src/protocol/archive-ref.js'
import { compareVersions, type Version } from '../../src/version.js'
import type { SyncEngine, SyncNetwork } from '../../src/sync/engine.js'
import type { FetchAnswer } from '../../src/sync/fan-out.js'

/** A node as the network sees it. */
export interface NetNode {
  readonly nodeId: string
  readonly engine: SyncEngine
  readonly roles: { readonly role: string }
  /** Asks peers with fanOut set (may be answered BUSY). */
  readonly fanOut: boolean
}

/** The calls a fault can hit. */
export type CallKind = 'upload' | 'fetch' | 'beacon'

/** What happens to a call a fault hits. */
export type Fault =
  /** The call fails before it reaches the peer (a refused dial, a reset connection). */
  | { type: 'fail', error?: Error }
  /** The peer does the work, but its answer is lost: the caller gets an error. */
  | { type: 'drop' }
  /** The call waits at a gate the test opens (or fails); `at` says before or after the peer's work. */
  | { type: 'hold', at?: 'request' | 'answer' }
  /** An upload stream breaks after this many bytes of the archive reached the master. */
  | { type: 'cut', afterBytes: number }
  /** A fetch answer is replaced on its way (a peer that lies). */
  | { type: 'tamper', answer: (a: FetchAnswer) => FetchAnswer }

/** Which calls a fault hits, and how many times (default once). A beacon hit by any fault is lost. */
export interface FaultRule {
  call: CallKind
  from?: string
  to?: string
  fault: Fault
  times?: number
}

/** A held call: the test learns when it arrives and decides when it goes on. */
export class Gate {
  /** Resolves when a call reaches the gate. */
  readonly reached: Promise<void>
  private arrive!: () => void
  private settle!: (err?: Error) => void
  private readonly opened: Promise<void>

  constructor () {
    this.reached = new Promise(resolve => { this.arrive = resolve })
    this.opened = new Promise((resolve, reject) => { this.settle = (err) => {
      if (err === undefined) resolve()
      else reject(err)
    } })
    // A gate that is failed before anyone waits must not count as an unhandled rejection.
    this.opened.catch(() => {})
  }

  /** Lets the held call go on. */
  open (): void { this.settle() }

  /** Ends the held call with `err`. */
  fail (err: Error): void { this.settle(err) }

  /** Called by the network: waits at the gate. */
  async pass (): Promise<void> {
    this.arrive()
    await this.opened
  }
}

/** One finished call (or one beacon heard). */
export type NetEvent =
  | { type: 'upload', from: string, to: string, kind: 'full' | 'delta', size: number, sha256: string, offset: number, sent: number, outcome: UploadOutcomeName, version?: Version }
  | { type: 'fetch', from: string, to: string, named: boolean, status: Status | 'failed', full: boolean, bytes: number }
  | { type: 'beacon', from: string, to: string, version: Version | null, archive: ArchiveRef | null }

/** How an upload call ended. */
export type UploadOutcomeName = 'ok' | 'need-full' | 'refused' | 'bad-archive' | 'failed' | 'cut' | 'dropped'

/** An installed rule and how often it may still hit. */
interface ActiveRule extends FaultRule {
  left: number
  gate?: Gate
}

const hex = (zip: Uint8Array): string => createHash('sha256').update(zip).digest('hex')

/** The network between the nodes of one test. */
export class FakeSyncNetwork {
  /** Every call that ended and every beacon heard, in order. */
  readonly events: NetEvent[] = []
  private readonly nodes = new Map<string, NetNode>()
  private readonly rules: ActiveRule[] = []
  private readonly waiters = new Set<{ check: () => boolean, resolve: () => void }>()
  /** Per master: bytes of each upload (by node, sha256 and size) that a cut stream left. */
  private readonly partial = new Map<string, number>()
  /** Per master: merges of uploads received whole, answered again to a retry without the bytes. */
  private readonly received = new Map<string, Promise<Version>>()
  /** Gates handed out, failed at close so no held call outlives the test. */
  private readonly gates: Gate[] = []

  /** Joins a node; its engine must use {@link networkOf} this node. */
  add (node: NetNode): void {
    this.nodes.set(node.nodeId, node)
  }

  /** Takes a node off the network (it stopped). */
  remove (nodeId: string): void {
    this.nodes.delete(nodeId)
  }

  /** The {@link SyncNetwork} node `nodeId` sees. */
  networkOf (nodeId: string): SyncNetwork {
    return {
      upload: async (masterId, req, zip) => await this.upload(nodeId, masterId, req, zip),
      fetch: async (peerId, since, want, archive) => await this.fetch(nodeId, peerId, since, want, archive),
      holders: (archive) => [...this.nodes.values()].filter(n => n.nodeId !== nodeId && heldBy(n, archive)).map(n => n.nodeId),
      awaited: (peerId, archive) => {
        const n = this.nodes.get(peerId)
        return n === undefined || (!heldBy(n, archive) && compareVersions(n.engine.appliedVersion, archive.version) < 0)
      },
      announce: () => { this.announce(nodeId) }
    }
  }

  /** Installs a fault; a `hold` fault's gate is returned. */
  inject (rule: FaultRule): Gate {
    const gate = new Gate()
    this.gates.push(gate)
    this.rules.push({ ...rule, left: rule.times ?? 1, gate })
    return gate
  }

  /** Removes every fault not used up yet. */
  heal (): void {
    this.rules.length = 0
  }

  /** Ends every held call with an error and every fault: the test is over. */
  close (): void {
    this.heal()
    for (const g of this.gates) g.fail(new TransferError('network closed'))
  }

  /** Events of one type so far. */
  count (type: NetEvent['type'], match: (e: any) => boolean = () => true): number {
    return this.events.filter(e => e.type === type && match(e)).length
  }

  /** Resolves once `check` holds; it is checked now and after every event. */
  async until (what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (check()) return
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        check,
        resolve: () => {
          clearTimeout(timer)
          this.waiters.delete(waiter)
          resolve()
        }
      }
      // A bound on a test that would otherwise hang, not a timing assertion.
      const timer = setTimeout(() => {
        this.waiters.delete(waiter)
        reject(new Error(`timed out waiting for ${what}; events: ${JSON.stringify(this.events.map(e => `${e.type} ${e.from}->${e.to} ${'outcome' in e ? e.outcome : ''}`))}`))
      }, timeoutMs)
      this.waiters.add(waiter)
    })
  }

  /** Every node sends its beacon, as at a heartbeat (the engines' tick() is the test's to call). */
  heartbeat (): void {
    for (const id of this.nodes.keys()) this.announce(id)
  }

  private emit (event: NetEvent): void {
    this.events.push(event)
    for (const w of [...this.waiters]) if (w.check()) w.resolve()
  }

  /** The fault for this call, used up by one. */
  private take (call: CallKind, from: string, to: string): ActiveRule | undefined {
    const rule = this.rules.find(r => r.call === call && r.left > 0 && (r.from === undefined || r.from === from) && (r.to === undefined || r.to === to))
    if (rule !== undefined) rule.left--
    return rule
  }

  private announce (from: string): void {
    const node = this.nodes.get(from)
    if (node === undefined) return
    const version = node.roles.role === 'master' ? node.engine.version : null
    const floor = node.roles.role === 'master' ? node.engine.tombstones.floor : 0
    const archive = node.engine.fullArchive
    for (const to of [...this.nodes.values()]) {
      if (to.nodeId === from) continue
      const rule = this.take('beacon', from, to.nodeId)
      if (rule !== undefined) continue
      // As the beacon router does: the floor before the version.
      if (version !== null) to.engine.tombstones.announced(floor)
      if (version !== null) to.engine.masterAnnounced(version)
      if (archive !== null) to.engine.archiveAnnounced(archive)
      this.emit({ type: 'beacon', from, to: to.nodeId, version, archive })
    }
  }

  private async upload (from: string, to: string, req: { kind: 'full' | 'delta', baseTerm: number }, zip: Uint8Array): Promise<{ status: Status, reason: string, version?: Version }> {
    const sha256 = hex(zip)
    const base = { type: 'upload' as const, from, to, kind: req.kind, size: zip.byteLength, sha256 }
    const rule = this.take('upload', from, to)
    const end = (outcome: UploadOutcomeName, offset = 0, sent = 0, version?: Version): void => { this.emit({ ...base, offset, sent, outcome, version }) }
    try {
      await this.before(rule)
    } catch (err) {
      end('failed')
      throw err
    }
    const master = this.nodes.get(to)
    if (master === undefined) {
      end('failed')
      throw new TransferError(`no route to ${to}`)
    }
    const refusal = master.engine.uploadRefusal({ nodeId: from, ...LOCAL_VERSIONS })
    if (refusal !== null) {
      end('refused')
      return { status: Status.REFUSED, reason: refusal }
    }
    if (req.kind === 'delta' && master.engine.needsFull(from, req.baseTerm)) {
      end('need-full')
      return { status: Status.NEED_FULL, reason: 'no acknowledged base for this node' }
    }
    const id = `${to}/${from}/${sha256}/${zip.byteLength}`
    const received = this.received.get(id)
    const offset = received === undefined ? this.partial.get(id) ?? 0 : zip.byteLength
    const sent = zip.byteLength - offset
    if (rule?.fault.type === 'cut' && received === undefined) {
      this.partial.set(id, offset + Math.min(rule.fault.afterBytes, sent))
      end('cut', offset, Math.min(rule.fault.afterBytes, sent))
      throw new TransferError(`upload stream to ${to} cut after ${rule.fault.afterBytes} bytes`)
    }
    const merge = received ?? this.startMerge(master, from, id, zip, req.kind)
    let version: Version
    try {
      version = await merge
    } catch (err) {
      if (!(err instanceof ArchiveError)) {
        end('failed', offset, sent)
        throw err
      }
      end('bad-archive', offset, sent)
      return { status: Status.BAD_ARCHIVE, reason: `${err.name}: ${err.message}` }
    }
    try {
      await this.after(rule, to)
    } catch (err) {
      end('dropped', offset, sent, version)
      throw err
    }
    end('ok', offset, sent, version)
    return { status: Status.OK, reason: '', version }
  }

  /** Merges an upload received whole and keeps the merge to answer a retry of the same bytes. */
  private startMerge (master: NetNode, from: string, id: string, zip: Uint8Array, kind: 'full' | 'delta'): Promise<Version> {
    this.partial.delete(id)
    const entry = master.engine.mergeUpload(from, zip, kind)
    this.received.set(id, entry)
    // A failed merge is tried afresh by the next attempt, as the upload service does.
    entry.catch(() => { if (this.received.get(id) === entry) this.received.delete(id) })
    return entry
  }

  private async fetch (from: string, to: string, since: Version, want: Version, archive?: ArchiveRef): Promise<FetchAnswer> {
    const rule = this.take('fetch', from, to)
    const end = (status: Status | 'failed', answer?: FetchAnswer): void => {
      this.emit({ type: 'fetch', from, to, named: archive !== undefined, status, full: answer?.full === true, bytes: answer?.zip?.byteLength ?? 0 })
    }
    try {
      await this.before(rule)
      const peer = this.nodes.get(to)
      if (peer === undefined) throw new TransferError(`no route to ${to}`)
      const asker = this.nodes.get(from)
      const served = await peer.engine.serveFetch(since, { nodeId: from, fanOut: asker?.fanOut ?? false, archive })
      let answer: FetchAnswer
      try {
        const zip = served.zip
        const version = served.version ?? served.archive?.version
        const sha256 = zip === undefined ? served.archive?.sha256 : served.archive?.sha256 ?? createHash('sha256').update(zip).digest()
        const size = zip?.byteLength ?? served.archive?.size ?? 0
        // As the wire answer names it: an answer without a version or sha256 names no archive.
        const named = version === undefined || sha256 === undefined ? undefined : { version, size, sha256 }
        answer = { status: served.status, reason: served.reason ?? '', version, full: served.kind !== 'delta', archive: named, sources: served.sources ?? [], zip: served.status === Status.OK ? zip : undefined }
        await this.after(rule, to)
      } finally {
        served.release?.()
      }
      if (rule?.fault.type === 'tamper') answer = rule.fault.answer(answer)
      // The receiving end of fetchFrom: what arrives must be what the header named.
      if (answer.zip !== undefined && answer.archive !== undefined && hex(answer.zip) !== Buffer.from(answer.archive.sha256).toString('hex')) {
        throw new TransferError('sha256 of the fetched archive differs from the announced one')
      }
      end(answer.status, answer)
      return answer
    } catch (err) {
      end('failed')
      throw err
    }
  }

  /** The part of a fault that acts before the peer is reached. */
  private async before (rule: ActiveRule | undefined): Promise<void> {
    // Always asynchronous, like a real call: the caller's synchronous part ends first.
    await Promise.resolve()
    if (rule === undefined) return
    const { fault } = rule
    if (fault.type === 'fail') throw fault.error ?? new TransferError('connection reset (injected)')
    if (fault.type === 'hold' && (fault.at ?? 'request') === 'request') await rule.gate!.pass()
  }

  /** The part of a fault that acts on the answer. */
  private async after (rule: ActiveRule | undefined, to: string): Promise<void> {
    if (rule === undefined) return
    const { fault } = rule
    if (fault.type === 'drop') throw new TransferError(`the answer of ${to} was lost (injected)`)
    if (fault.type === 'hold' && fault.at === 'answer') await rule.gate!.pass()
  }
}

/** True when `node` offers exactly `archive` in its beacon. */
function heldBy (node: NetNode, archive: ArchiveRef): boolean {
  const held = node.engine.fullArchive
  return held !== null && sameArchive(held, archive)
}
