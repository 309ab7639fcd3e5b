/**
 * `/spamsync/fetch/1.0.0`: a node asks a peer for the central changes since the version it
 * applied, and gets a delta archive (or a full one when the peer cannot make the delta); or it
 * asks for one exact full archive (fan-out, see fan-out.ts).
 */
import { createHash } from 'node:crypto'
import { lpStream } from '@libp2p/utils'
import type { PeerId, Startable, Stream } from '@libp2p/interface'
import { PROTOCOL_VERSION } from '../constants.js'
import { ArchiveKind, FetchRequest, FetchResponse, Status, type Hello } from '../pb/spamsync.js'
import { TransferError } from '../errors.js'
import { READ_TIMEOUT_MS, readMessage, receiveChunks, sendChunks } from './transfer.js'
import type { TrafficCounter } from './traffic.js'
import type { SpamsyncNode } from '../net/libp2p-node.js'
import type { Version } from '../version.js'
import type { ArchiveRef } from './archive-ref.js'
import { trace } from '../trace.js'
import { workAhead } from '../work-ahead.js'

/** Protocol id; the major version is the sync protocol's. */
export const FETCH_PROTOCOL = `/spamsync/fetch/${PROTOCOL_VERSION}.0.0`

/** Fetches served at once per connection. */
export const MAX_INBOUND_FETCHES = 4

/** Who asks, and for what beyond `since` and `want`. */
export interface FetchAsk {
  nodeId: string
  /** Exactly this full archive. */
  archive?: ArchiveRef
  /** The asker can fetch from peers, so it may be answered BUSY. */
  fanOut: boolean
}

/** What a node serves; implemented by the sync engine. */
export interface FetchSource {
  /** Why this peer is refused (incompatible), or null. */
  refusal: (hello: Hello) => string | null
  /** The archive of changes since `since`, or a status without one. */
  serve: (since: Version, want: Version, ask: FetchAsk) => Promise<Served>
}

/** A fetch answer. */
export interface Served {
  status: Status
  reason?: string
  kind?: 'full' | 'delta'
  base?: Version
  version?: Version
  zip?: Uint8Array
  /** Size and sha256 of `zip` when known (a held archive), or the archive a BUSY answer names. */
  archive?: ArchiveRef
  /** BUSY: nodes the named archive was sent to. */
  sources?: string[]
  /** Called once the answer is sent (or failed): frees the sender's slot. */
  release?: () => void
  /** OK: the encoded history records of the versions the archive covers (archive/history-record.ts). */
  history?: Uint8Array<ArrayBuffer>
}

/** Tunables of the fetch server; tests shorten the timeout. */
export interface FetchServiceOptions {
  /** A request read or a chunk write that waits longer than this gives up and frees the slot. */
  timeoutMs?: number
}

/** Serves fetches on this node. */
export class FetchService implements Startable {
  private readonly timeoutMs: number

  constructor (
    private readonly node: SpamsyncNode,
    private readonly source: FetchSource,
    private readonly traffic: TrafficCounter,
    opts: FetchServiceOptions = {}
  ) {
    this.timeoutMs = opts.timeoutMs ?? READ_TIMEOUT_MS
  }

  async start (): Promise<void> {
    await this.node.handle(FETCH_PROTOCOL, (stream, connection) => {
      this.serve(stream, connection.remotePeer.toString()).catch((err) => { stream.abort(err) })
    }, { maxInboundStreams: MAX_INBOUND_FETCHES })
  }

  async stop (): Promise<void> {
    await this.node.unhandle(FETCH_PROTOCOL)
  }

  /**
   * `peer`: the connection's peer id, which Noise authenticated. The hello must name it: the
   * named node is whom the master's BUSY answers list as holding the archive, and whose own
   * Bayes contribution a delta leaves out, so a peer may only ask as itself.
   */
  private async serve (stream: Stream, peer: string): Promise<void> {
    const lp = lpStream(stream)
    const reqBytes = await readMessage(lp, this.timeoutMs)
    this.traffic.bytesReceived += reqBytes.byteLength
    const req = FetchRequest.decode(reqBytes)
    const hello = req.hello ?? { nodeId: '', protocolVersion: 0, schemaVersion: 0, agentVersion: '' }
    const refusal = hello.nodeId !== peer ? `hello names node ${hello.nodeId.slice(0, 100)}, but the connection is from ${peer}` : this.source.refusal(hello)
    const named = req.archive?.version === undefined ? undefined : { version: req.archive.version, size: req.archive.size, sha256: req.archive.sha256 }
    const served: Served = refusal !== null
      ? { status: Status.REFUSED, reason: refusal }
      : await this.source.serve(req.since ?? { term: 0, seq: 0 }, req.want ?? { term: 0, seq: 0 }, { nodeId: hello.nodeId, archive: named, fanOut: req.fanOut })
    try {
      const zip = served.zip
      const header = FetchResponse.encode({
        status: served.status,
        reason: served.reason ?? '',
        kind: served.kind === 'delta' ? ArchiveKind.DELTA : ArchiveKind.FULL,
        base: served.base,
        version: served.version ?? served.archive?.version,
        size: zip?.byteLength ?? served.archive?.size ?? 0,
        sha256: zip === undefined
          ? served.archive?.sha256 ?? new Uint8Array(0)
          : served.archive?.sha256 ?? createHash('sha256').update(zip).digest(),
        sources: served.sources ?? [],
        history: served.status === Status.OK ? served.history ?? new Uint8Array(0) : new Uint8Array(0)
      })
      this.count(header.byteLength)
      await lp.write(header, { signal: AbortSignal.timeout(this.timeoutMs) })
      if (served.status === Status.OK && zip !== undefined) {
        await sendChunks(lp, zip, 0, (n) => { this.count(n) }, this.timeoutMs)
        trace('serve-sent', `${peer.slice(-6)} ${zip.byteLength}`)
      }
      await stream.close()
    } finally {
      served.release?.()
    }
  }

  private count (n: number): void {
    this.traffic.bytesSent += n
    this.traffic.fetchBytesServed += n
  }
}

/** A fetch answer as received. */
export interface Fetched {
  response: FetchResponse
  zip?: Uint8Array
}

/** Asks `peer` for the changes since `since`; checks size and sha256 of what arrives. */
export async function fetchFrom (
  node: SpamsyncNode, peer: PeerId, request: FetchRequest, traffic: TrafficCounter, onProgress?: (done: number, total: number) => void
): Promise<Fetched> {
  const stream = await node.dialProtocol(peer, FETCH_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
  try {
    const lp = lpStream(stream)
    const req = FetchRequest.encode(request)
    traffic.bytesSent += req.byteLength
    await lp.write(req)
    const headerBytes = await readMessage(lp)
    traffic.bytesReceived += headerBytes.byteLength
    const response = FetchResponse.decode(headerBytes)
    if (response.status !== Status.OK) {
      await stream.close()
      return { response }
    }
    workAhead(response.size)
    let done = 0
    const zip = await receiveChunks(lp, response.size, [], 0, (n) => {
      traffic.bytesReceived += n
      done += n
      onProgress?.(done, response.size)
    })
    if (!Buffer.from(createHash('sha256').update(zip).digest()).equals(Buffer.from(response.sha256))) {
      throw new TransferError('sha256 of the fetched archive differs from the announced one')
    }
    await stream.close()
    return { response, zip }
  } catch (err: any) {
    stream.abort(err)
    throw err
  }
}
