/**
 * The sync engine's way to the other nodes over libp2p: its {@link SyncNetwork} carried out by
 * the upload and fetch protocols, timed for metrics and shown as the transfer in flight; and a
 * rollback forwarded to the master over the control protocol.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { ArchiveKind, type Hello } from '../pb/spamsync.js'
import { LOCAL_VERSIONS } from '../protocol/compat.js'
import { uploadTo } from '../protocol/upload-service.js'
import { fetchFrom, type Fetched } from '../protocol/fetch-service.js'
import { controlRequest } from '../protocol/control-service.js'
import { namedArchive } from '../protocol/beacon-wire.js'
import type { SyncNetwork } from './engine.js'
import type { FanOutPeers, FetchAnswer } from './fan-out.js'
import type { SpamsyncNode } from '../net/libp2p-node.js'
import type { TrafficCounter } from '../protocol/traffic.js'
import type { TransferProgress } from '../protocol/transfer-progress.js'
import type { Version } from '../version.js'
import type { RollbackOutcome } from '../archive/change-summary.js'
import { trace } from '../trace.js'

/** The parts the network works with. */
export interface SyncNetworkParts {
  node: SpamsyncNode
  nodeId: string
  traffic: TrafficCounter
  transfer: TransferProgress
  /** Times one upload or download exchange (AgentMetrics.timeSync). */
  timeSync: <T>(direction: 'upload' | 'download', work: () => Promise<T>) => Promise<T>
  /** Full archives go from peer to peer (config fanOut). */
  fanOut: boolean
  /** Who holds which full archive (sync/archive-holders.ts). */
  holders: Pick<FanOutPeers, 'holders' | 'awaited'>
  /** Publishes this node's beacon now (Election.announce). */
  announce: () => void
}

/** The answer of a fetch as the engine takes it. */
export function fetchAnswer ({ response, zip }: Fetched): FetchAnswer {
  return { status: response.status, reason: response.reason, version: response.version, full: response.kind === ArchiveKind.FULL, archive: namedArchive(response), sources: response.sources, zip, history: response.history }
}

/** SyncNetwork over libp2p. */
export class Libp2pSyncNetwork implements SyncNetwork {
  constructor (private readonly parts: SyncNetworkParts) {}

  /** This node's hello: its id and versions, the first thing every request carries. */
  hello (): Hello {
    return { nodeId: this.parts.nodeId, ...LOCAL_VERSIONS }
  }

  readonly upload: SyncNetwork['upload'] = async (masterId, req, zip) => {
    const { node, traffic, transfer } = this.parts
    const request = { hello: this.hello(), kind: req.kind === 'full' ? ArchiveKind.FULL : ArchiveKind.DELTA, baseTerm: req.baseTerm, baseLseq: req.baseLseq }
    return await this.parts.timeSync('upload', async () => await transfer.track('upload', async (onProgress) =>
      await uploadTo(node, peerIdFromString(masterId), request, zip, traffic, onProgress)))
  }

  readonly fetch: SyncNetwork['fetch'] = async (peerId, since, want, archive) => {
    const { node, traffic, transfer, fanOut } = this.parts
    const request = { hello: this.hello(), since, want, archive, fanOut }
    return fetchAnswer(await this.parts.timeSync('download', async () => await transfer.track('download', async (onProgress) =>
      await fetchFrom(node, peerIdFromString(peerId), request, traffic, onProgress))))
  }

  readonly holders: SyncNetwork['holders'] = (archive) => this.parts.holders.holders(archive)

  readonly awaited: SyncNetwork['awaited'] = (nodeId, archive) => this.parts.holders.awaited(nodeId, archive)

  readonly announce: SyncNetwork['announce'] = () => {
    trace('announced')
    this.parts.announce()
  }

  /** Asks master `masterId` to roll the lists back to `version` (or what that would change, as a dry run). */
  async forwardRollback (masterId: string, version: Version, dryRun = false): Promise<RollbackOutcome> {
    return await controlRequest(this.parts.node, peerIdFromString(masterId), { hello: this.hello(), op: dryRun ? 'rollback-preview' : 'rollback', version })
  }
}
