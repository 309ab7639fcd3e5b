/**
 * `/spamsync/upload/1.0.0`: a slave streams its changes to the master.
 *
 * Request, then the master's go-ahead with the offset to start from (non-zero when an earlier
 * attempt of the same archive was cut off: the master kept what arrived), then the archive in
 * chunks, then the master's result after it checked size and sha256 and merged (waited for
 * longer the larger the archive: transfer.ts resultWaitMs).
 */
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import type { PeerId, Startable, Stream } from '@libp2p/interface'
import { PROTOCOL_VERSION } from '../constants.js'
import { ArchiveError, SyncRefusedError, TransferError } from '../errors.js'
import { ArchiveKind, Hello, Status, UploadReady, UploadRequest, UploadResult } from '../pb/spamsync.js'
import { readMessage, resultWaitMs, sendChunks, READ_TIMEOUT_MS } from './transfer.js'
import { PartialUploads, PARTIAL_TTL_MS, type NoRoom, type Receiving } from './partial-uploads.js'
import { DEFAULT_ARCHIVE_LIMITS, maxArchiveBytes, type ArchiveLimits } from '../archive/limits.js'
import type { TrafficCounter } from './traffic.js'
import { workAhead } from '../work-ahead.js'
import type { SpamsyncNode } from '../net/libp2p-node.js'
import type { Version } from '../version.js'
import { trace } from '../trace.js'

/** Why an upload cannot be taken now, by the partial store's answer. */
const BUSY_REASONS: Record<NoRoom, string> = {
  'in flight': 'this upload is still being received on another stream',
  peer: 'this node\'s uploads in progress fill its share',
  total: 'uploads in progress fill the master\'s room for them'
}

/** Protocol id; the major version is the sync protocol's. */
export const UPLOAD_PROTOCOL = `/spamsync/upload/${PROTOCOL_VERSION}.0.0`

/** Uploads a master handles at once per connection; a slave has one in flight at a time. */
export const MAX_INBOUND_UPLOADS = 2

/** Uploads received whole whose merge (in progress or done) is kept for a retry, at most. */
export const MAX_RECEIVED = 32

/** What the master does with uploads; implemented by the sync engine. */
export interface UploadTarget {
  /** Why this peer's upload is refused now (incompatible, not master), or null. */
  refusal: (hello: Hello) => string | null
  /** True when a delta on this base cannot be taken and a full archive is needed. */
  needsFull: (nodeId: string, baseTerm: number, baseLseq: number) => boolean
  /** Checks and merges a received archive; throws an ArchiveError when it is bad. */
  merge: (nodeId: string, zip: Uint8Array, kind: 'full' | 'delta') => Promise<Version>
}

/** An upload received whole: its merge, so a retry whose reply was lost sends no byte again. */
interface Received {
  merge: Promise<Version>
  touched: number
}

/** Tuning of the service; tests shorten the timeout so a stall is seen in a second. */
export interface UploadServiceOptions {
  /** A read that waits longer than this for the uploader gives up and frees the slot. */
  readTimeoutMs?: number
  /** Folder of the bytes of uploads being received (the agent: `<dataDir>/uploads`); default a new temp folder, removed at stop. */
  partialDir?: string
  /** Limits of the archives merged: an upload larger than the largest archive they allow is refused. */
  limits?: ArchiveLimits
  /** Most bytes of one peer's uploads held at once (default: one archive at the limits). */
  maxPeerBytes?: number
  /** Most bytes of all uploads held at once (default: two archives at the limits). */
  maxTotalBytes?: number
  /** An error of the service's own housekeeping, for status (default: a process warning). */
  report?: (what: string, err: unknown) => void
}

/** Serves uploads on this node. */
export class UploadService implements Startable {
  private partials: PartialUploads | null = null
  private readonly received = new Map<string, Received>()
  private readonly readTimeoutMs: number
  /** Largest upload taken: the largest archive the merge's limits allow. */
  readonly maxUploadBytes: number
  /** The temp folder made when no partialDir was given, removed at stop. */
  private tempDir: string | null = null

  constructor (
    private readonly node: SpamsyncNode,
    private readonly target: UploadTarget,
    private readonly traffic: TrafficCounter,
    private readonly opts: UploadServiceOptions = {}
  ) {
    this.readTimeoutMs = opts.readTimeoutMs ?? READ_TIMEOUT_MS
    this.maxUploadBytes = maxArchiveBytes(opts.limits ?? DEFAULT_ARCHIVE_LIMITS)
  }

  /** Bytes of uploads held now (counted as the limits count them), cut-off uploads kept, and uploads being received. */
  get held (): { bytes: number, cutOff: number, receiving: number } {
    return { bytes: this.partials?.bytes() ?? 0, cutOff: this.partials?.kept ?? 0, receiving: this.partials?.receivingCount ?? 0 }
  }

  async start (): Promise<void> {
    let dir = this.opts.partialDir
    if (dir === undefined) dir = this.tempDir = await mkdtemp(join(tmpdir(), 'spamsync-uploads-'))
    const report = this.opts.report ?? ((what: string, err: unknown) => { process.emitWarning(`${what}: ${String(err)}`) })
    this.partials = new PartialUploads({
      dir,
      maxPeerBytes: this.opts.maxPeerBytes ?? this.maxUploadBytes,
      maxTotalBytes: this.opts.maxTotalBytes ?? 2 * this.maxUploadBytes,
      onError: (err) => { report('partial uploads', err) }
    })
    await this.partials.start()
    await this.node.handle(UPLOAD_PROTOCOL, (stream, connection) => {
      const peer = connection.remotePeer.toString()
      this.serve(stream, peer).catch((err) => {
        stream.abort(err)
        // This node's own disk failing (a full data folder) is for its operator to see; what a
        // peer does wrong ends only that peer's stream.
        if (typeof err?.syscall === 'string') report(`receive upload from ${peer}`, err)
      })
    }, { maxInboundStreams: MAX_INBOUND_UPLOADS })
  }

  async stop (): Promise<void> {
    await this.node.unhandle(UPLOAD_PROTOCOL)
    await this.partials?.stop()
    this.received.clear()
    if (this.tempDir !== null) await rm(this.tempDir, { recursive: true, force: true })
    this.tempDir = null
  }

  /** `peer`: the connection's peer id, which Noise authenticated; an upload is merged as that node's only. */
  private async serve (stream: Stream, peer: string): Promise<void> {
    const lp = lpStream(stream, { maxDataLength: 2 * 1024 * 1024 })
    const reqBytes = await readMessage(lp, this.readTimeoutMs)
    this.traffic.bytesReceived += reqBytes.byteLength
    const req = UploadRequest.decode(reqBytes)
    const reply = async (msg: UploadReady | UploadResult, codec: typeof UploadReady | typeof UploadResult): Promise<void> => {
      const bytes = codec.encode(msg)
      this.traffic.bytesSent += bytes.byteLength
      await lp.write(bytes)
    }
    const hello = req.hello ?? { nodeId: '', protocolVersion: 0, schemaVersion: 0, agentVersion: '' }
    const refusal = this.refusalOf(req, hello, peer)
    if (refusal !== null) {
      await reply({ status: Status.REFUSED, reason: refusal, offset: 0 }, UploadReady)
      await stream.close()
      return
    }
    const kind = req.kind === ArchiveKind.DELTA ? 'delta' : 'full'
    if (kind === 'delta' && this.target.needsFull(hello.nodeId, req.baseTerm, req.baseLseq)) {
      await reply({ status: Status.NEED_FULL, reason: 'no acknowledged base for this node', offset: 0 }, UploadReady)
      await stream.close()
      return
    }
    const id = `${hello.nodeId}/${Buffer.from(req.sha256).toString('hex')}/${req.size}`
    const whole = this.takeReceived(id)
    if (whole !== undefined) {
      // All bytes are here already (the uploader gave up waiting for the merge): none again.
      await reply({ status: Status.OK, reason: '', offset: req.size }, UploadReady)
      await this.answer(whole, reply)
      await stream.close()
      return
    }
    const partial = await this.partials!.begin(peer, id, req.size)
    if (typeof partial === 'string') {
      await reply({ status: Status.RETRY, reason: `busy: ${BUSY_REASONS[partial]}; retry later`, offset: 0 }, UploadReady)
      await stream.close()
      return
    }
    try {
      await reply({ status: Status.OK, reason: '', offset: partial.offset }, UploadReady)
      await this.receiveRest(lp, partial, req.size)
    } catch (err) {
      await partial.cutOff()
      throw err
    }
    const zip = await partial.complete(req.sha256)
    if (zip === null) {
      await reply({ status: Status.BAD_ARCHIVE, reason: 'sha256 of the received bytes differs from the request' }, UploadResult)
      await stream.close()
      return
    }
    const merge = this.target.merge(hello.nodeId, zip, kind)
    const entry = { merge, touched: Date.now() }
    this.received.set(id, entry)
    while (this.received.size > MAX_RECEIVED) this.received.delete(this.received.keys().next().value as string)
    // A failed merge is tried afresh by the next attempt.
    merge.catch(() => { if (this.received.get(id) === entry) this.received.delete(id) })
    await this.answer(entry, reply)
    await stream.close()
  }

  /** Why an upload request is refused before any byte of it is taken, or null. */
  private refusalOf (req: UploadRequest, hello: Hello, peer: string): string | null {
    if (hello.nodeId !== peer) return `hello names node ${hello.nodeId}, but the connection is from ${peer}`
    const refusal = this.target.refusal(hello)
    if (refusal !== null) return refusal
    if (req.size > this.maxUploadBytes) return `upload of ${req.size} bytes is over the ${this.maxUploadBytes}-byte limit of an archive`
    return req.sha256.byteLength !== 32 ? 'bad upload request' : null
  }

  /** Reads the archive's bytes from `partial.offset` up to `size` into `partial`. */
  private async receiveRest (lp: LengthPrefixedStream, partial: Receiving, size: number): Promise<void> {
    trace('upload-receiving', `${partial.offset}/${size}`)
    workAhead(size)
    for (let have = partial.offset; have < size;) {
      const chunk = await readMessage(lp, this.readTimeoutMs)
      if (chunk.byteLength === 0 || have + chunk.byteLength > size) throw new TransferError(`peer sent more than the declared ${size} bytes`)
      partial.write(chunk)
      have += chunk.byteLength
      this.traffic.bytesReceived += chunk.byteLength
    }
    trace('upload-received', size)
  }

  /** Replies with the outcome of a merge: the version that holds it, or why the archive is bad. */
  private async answer (entry: Received, reply: (msg: UploadResult, codec: typeof UploadResult) => Promise<void>): Promise<void> {
    try {
      const version = await entry.merge
      await reply({ status: Status.OK, reason: '', version }, UploadResult)
    } catch (err: any) {
      if (!(err instanceof ArchiveError)) throw err
      await reply({ status: Status.BAD_ARCHIVE, reason: `${err.name}: ${err.message}` }, UploadResult)
    }
  }

  /** The merge of this very upload when it was received whole within the TTL, else undefined. */
  private takeReceived (id: string): Received | undefined {
    const now = Date.now()
    for (const [key, r] of this.received) if (now - r.touched > PARTIAL_TTL_MS) this.received.delete(key)
    const kept = this.received.get(id)
    if (kept !== undefined) kept.touched = now
    return kept
  }

}

/** What an upload attempt ended with. */
export interface UploadOutcome {
  status: Status
  reason: string
  version?: Version
}

/**
 * Uploads `zip` to `peer`; resumes from the offset the master names; `onProgress` gets bytes
 * acknowledged-or-sent of total. The master's replies are waited for `readTimeoutMs`, its result
 * (after its merge) longer the larger the archive (resultWaitMs).
 */
export async function uploadTo (
  node: SpamsyncNode, peer: PeerId, request: Omit<UploadRequest, 'size' | 'sha256'>, zip: Uint8Array, traffic: TrafficCounter, onProgress?: (done: number, total: number) => void,
  readTimeoutMs = READ_TIMEOUT_MS
): Promise<UploadOutcome> {
  const stream = await node.dialProtocol(peer, UPLOAD_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
  try {
    const lp = lpStream(stream, { maxDataLength: 2 * 1024 * 1024 })
    const req = UploadRequest.encode({ ...request, size: zip.byteLength, sha256: createHash('sha256').update(zip).digest() })
    traffic.bytesSent += req.byteLength
    await lp.write(req)
    const readyBytes = await readMessage(lp, readTimeoutMs)
    traffic.bytesReceived += readyBytes.byteLength
    const ready = UploadReady.decode(readyBytes)
    if (ready.status !== Status.OK) {
      await stream.close()
      return { status: ready.status, reason: ready.reason }
    }
    if (ready.offset > zip.byteLength) throw new SyncRefusedError(`master asked to resume at ${ready.offset} of ${zip.byteLength} bytes`)
    // A resumed upload starts at the master's offset: those bytes are already done.
    let done = ready.offset
    onProgress?.(done, zip.byteLength)
    await sendChunks(lp, zip, ready.offset, (n) => {
      traffic.bytesSent += n
      done += n
      onProgress?.(done, zip.byteLength)
    }, readTimeoutMs)
    const resultBytes = await readMessage(lp, resultWaitMs(zip.byteLength, readTimeoutMs))
    traffic.bytesReceived += resultBytes.byteLength
    const result = UploadResult.decode(resultBytes)
    await stream.close()
    return { status: result.status, reason: result.reason, version: result.version }
  } catch (err: any) {
    stream.abort(err)
    throw err
  }
}
