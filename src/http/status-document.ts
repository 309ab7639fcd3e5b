/**
 * The status document of `GET /status`, as one type: the agent builds it (http/status-report.ts),
 * the HTTP server sends it, metrics read it, and the CLI and the status page show it.
 */
import type { RollbackOutcome } from '../archive/change-summary.js'
import type { ListDataset } from '../constants.js'
import type { Version } from '../version.js'
import type { Role } from '../election/state.js'
import type { ClusterNode } from '../cluster/health.js'
import type { InvalidReport } from '../settings/list-file.js'
import type { OutputStatus } from '../outputs/runner.js'
import type { TransferState } from '../protocol/transfer-progress.js'
import type { DialError } from '../cluster/peer-directory.js'
import type { SyncErrorReport } from '../sync/error-log.js'
import type { HistoryItem, TransferReport } from '../sync/engine.js'

/** A peer this node knows: from the election, its versions, or a failed dial. */
export interface PeerStatus {
  id: string
  /** Its name from its beacon, else its id. */
  name: string
  role: Role | 'unknown'
  live: boolean
  agentVersion: string | null
  protocolVersion: number | null
  compatible: boolean
  /** Why it is refused, or null. */
  reason: string | null
  appliedVersion: Version | null
  /** How far (ms) its clock was from cluster time, or null. */
  clockOffsetMs: number | null
  /** When it was last heard (ISO). */
  lastSeen: string
  connected: boolean
  /** Its last failed dial since it last answered one, or null. */
  lastDialError: DialError | null
}

/** A list dataset: its entries and the invalid lines of its file. */
export interface ListDatasetStatus extends InvalidReport {
  entries: number
  /** Why the file is left alone (a symlink out of the folder, too large), if it is. */
  fileError?: string
}

/** The Bayes dataset: tokens in the written DB, contributing nodes, invalid lines of bayes.txt. */
export interface BayesDatasetStatus extends InvalidReport {
  entries: number
  contributors: number
  fileError?: string
}

/** The full archive this node passes on to peers (fan-out). */
export interface FullArchiveStatus {
  version: Version
  size: number
  /** Hex. */
  sha256: string
}

/** The document of `GET /status`. */
export interface StatusDocument {
  nodeId: string
  name: string
  agentVersion: string
  protocolVersion: number
  schemaVersion: number
  role: Role
  masterId: string | null
  term: number
  version: Version
  appliedVersion: Version
  /** This node's clock minus the master's (ms); null until a master's clock was heard. */
  clockOffsetMs: number | null
  /** The tombstone floor this node knows (ISO, cluster time): deletes stamped before it are forgotten (sync-v1.md, "Tombstones"); null: none yet. */
  tombstoneFloor: string | null
  listen: string[]
  peers: PeerStatus[]
  /** Every node this one knows, itself first (cluster/health.ts). */
  cluster: ClusterNode[]
  /** One line over the cluster (the CLI computes the same from `cluster`). */
  summary: string
  datasets: Record<ListDataset, ListDatasetStatus> & { bayes: BayesDatasetStatus }
  bytesSent: number
  bytesReceived: number
  /** Of bytesSent: answers to other nodes' fetches (what fan-out spreads over the peers). */
  fetchBytesServed: number
  /** Beacon frames and bytes sent and received since start (not in bytesSent/bytesReceived). */
  beacons: { framesSent: number, bytesSent: number, framesReceived: number, bytesReceived: number }
  fullArchive: FullArchiveStatus | null
  lastUpload: TransferReport | null
  lastDownload: TransferReport | null
  /** The upload or fetch in flight, for `spamsync sync` progress. */
  transfer: TransferState | null
  outputs: OutputStatus[]
  /** The error log (sync/error-log.ts), oldest first. */
  errors: SyncErrorReport[]
  /** Secrets on disk that group or others may open (file-modes.ts). */
  warnings: string[]
  uptimeSeconds: number
}

/**
 * The document as the CLI reads it from an agent that may be older than the CLI: what the first
 * agents sent is there, what came since (names, the cluster view, outputs, warnings, dial
 * errors, progress) may be missing.
 */
export type ReceivedStatus = Pick<StatusDocument, 'nodeId' | 'role' | 'term' | 'masterId' | 'version' | 'appliedVersion' | 'agentVersion' |
'protocolVersion' | 'clockOffsetMs' | 'bytesSent' | 'bytesReceived' | 'lastUpload' | 'lastDownload' | 'errors'> &
Partial<Pick<StatusDocument, 'name' | 'cluster' | 'outputs' | 'warnings' | 'transfer' | 'tombstoneFloor'>> & {
  datasets: Record<string, ListDatasetStatus>
  peers: Array<Pick<PeerStatus, 'id' | 'role' | 'appliedVersion' | 'agentVersion' | 'compatible' | 'reason' | 'lastSeen'> &
  Partial<Pick<PeerStatus, 'name' | 'connected' | 'lastDialError'>>>
}

/** The answer of `POST /rollback`: the new central version, or the named error that refused it. */
export type RollbackAnswer = ({ ok: true } & RollbackOutcome) | { ok?: undefined, error: string, message: string }

/** The answer of `GET /history/T.S`: one kept version, or why there is none. */
export type HistoryItemAnswer = HistoryItem | { error: string, message: string }

/** The answer of `GET /history`: the kept central versions, newest first. */
export type HistoryDocument = HistoryItem[]
