/**
 * Builds the status document (http/status-document.ts) from the parts of a running agent, and
 * this node's own entry of the cluster view, which its beacon's health record is made from too.
 */
import { AGENT_VERSION, LIST_DATASETS, PROTOCOL_VERSION, SCHEMA_VERSION, type ListDataset } from '../constants.js'
import { clusterSummary, type ClusterView, type SelfSeen } from '../cluster/health.js'
import type { MemberView, Role } from '../election/state.js'
import type { SyncEngine } from '../sync/engine.js'
import type { TombstoneCollector } from '../sync/tombstones.js'
import type { ListReplica } from '../replica/list-replica.js'
import type { SettingsFolder } from '../replica/settings-folder.js'
import type { BayesReplica } from '../replica/bayes-replica.js'
import type { PeerDirectory } from '../cluster/peer-directory.js'
import type { ClockSkewMonitor } from '../cluster/clock-skew.js'
import type { TrafficCounter } from '../protocol/traffic.js'
import type { TransferProgress } from '../protocol/transfer-progress.js'
import type { OutputRunner } from '../outputs/runner.js'
import type { AfterApplyHook } from '../ops/after-apply-hook.js'
import type { FullArchiveStatus, ListDatasetStatus, PeerStatus, StatusDocument } from './status-document.js'

/** The parts status reads. */
export interface StatusParts {
  nodeId: string
  election: { readonly role: Role, readonly masterId: string | null, readonly term: number, members: () => MemberView[] }
  engine: Pick<SyncEngine, 'version' | 'appliedVersion' | 'errors' | 'lastUpload' | 'lastDownload' | 'fullArchive' | 'bayesTokens' | 'bayesFileStatus'> & { tombstones: Pick<TombstoneCollector, 'floor'> }
  replica: Pick<ListReplica, 'presentCount'>
  folder: Pick<SettingsFolder, 'invalid' | 'problem'>
  bayes: Pick<BayesReplica, 'contributorCount'>
  peers: Pick<PeerDirectory, 'ids' | 'info' | 'lastDialError' | 'connected'>
  cluster: ClusterView
  skews: Pick<ClockSkewMonitor, 'offsetOf' | 'ownOffsetMs'>
  /** This node's listen addresses. */
  listen: () => string[]
  traffic: TrafficCounter
  transfer: TransferProgress
  outputs: OutputRunner | null
  afterApply: AfterApplyHook | null
  /** Secrets on disk that group or others may open (checked on every call). */
  warnings: () => string[]
  /** When the agent started (ms since the epoch). */
  startedAtMs: number
  now?: () => number
}

/** The status of one running agent. */
export class StatusReport {
  private readonly now: () => number

  constructor (private readonly parts: StatusParts) {
    this.now = parts.now ?? Date.now
  }

  /** This node as the cluster view sees it. */
  selfSeen (): SelfSeen {
    const { election, engine, folder } = this.parts
    const invalid = Object.fromEntries(LIST_DATASETS.map(ds => [ds, folder.invalid.get(ds)?.invalidCount ?? 0]))
    return {
      nodeId: this.parts.nodeId,
      role: election.role,
      agentVersion: AGENT_VERSION,
      version: engine.version,
      appliedVersion: engine.appliedVersion,
      inputs: {
        lastUpload: engine.lastUpload?.time ?? null,
        lastDownload: engine.lastDownload?.time ?? null,
        errors: engine.errors,
        invalid,
        outputs: this.parts.outputs?.status() ?? [],
        hooks: this.parts.afterApply?.runs ?? null,
        startedAtMs: this.parts.startedAtMs
      }
    }
  }

  /** The document of `GET /status`. */
  status (): StatusDocument {
    const { election, engine, traffic } = this.parts
    // Every node this one knows, itself first: name, role, lag, last sync, problems (cluster/health.ts).
    const cluster = this.parts.cluster.table(this.selfSeen(), election.members())
    return {
      nodeId: this.parts.nodeId,
      name: this.parts.cluster.name,
      agentVersion: AGENT_VERSION,
      protocolVersion: PROTOCOL_VERSION,
      schemaVersion: SCHEMA_VERSION,
      role: election.role,
      masterId: election.masterId,
      term: election.term,
      version: engine.version,
      appliedVersion: engine.appliedVersion,
      clockOffsetMs: this.parts.skews.ownOffsetMs,
      tombstoneFloor: engine.tombstones.floor > 0 ? new Date(engine.tombstones.floor).toISOString() : null,
      listen: this.parts.listen(),
      peers: this.peers(),
      cluster,
      summary: clusterSummary(cluster),
      datasets: this.datasets(),
      bytesSent: traffic.bytesSent,
      bytesReceived: traffic.bytesReceived,
      fetchBytesServed: traffic.fetchBytesServed,
      beacons: { ...traffic.beacons },
      fullArchive: this.fullArchive(),
      lastUpload: engine.lastUpload,
      lastDownload: engine.lastDownload,
      transfer: this.parts.transfer.current,
      outputs: this.parts.outputs?.status() ?? [],
      errors: [...engine.errors],
      warnings: this.parts.warnings(),
      uptimeSeconds: Math.round((this.now() - this.parts.startedAtMs) / 1000)
    }
  }

  /** Every node known to the election, by its versions or by a failed dial, sorted by id. */
  private peers (): PeerStatus[] {
    const { peers, skews, cluster } = this.parts
    const members = new Map(this.parts.election.members().map(m => [m.nodeId, m]))
    const ids = new Set([...members.keys(), ...peers.ids()])
    return [...ids].sort().map(id => {
      const m = members.get(id)
      const p = peers.info(id)
      return {
        id,
        name: cluster.nameOf(id),
        role: m?.role ?? 'unknown',
        live: m?.live ?? false,
        agentVersion: p?.agentVersion ?? null,
        protocolVersion: p?.protocolVersion ?? null,
        compatible: p?.compatible ?? true,
        reason: p?.reason ?? null,
        appliedVersion: m?.appliedVersion ?? null,
        clockOffsetMs: skews.offsetOf(id),
        lastSeen: new Date(Math.max(m?.lastSeen ?? 0, p?.lastSeen ?? 0)).toISOString(),
        connected: peers.connected(id),
        lastDialError: peers.lastDialError(id)
      }
    })
  }

  private datasets (): StatusDocument['datasets'] {
    const { replica, folder, engine, bayes } = this.parts
    const reports = folder.invalid
    const lists = Object.fromEntries(LIST_DATASETS.map((ds): [ListDataset, ListDatasetStatus] => {
      const invalid = reports.get(ds) ?? { invalidCount: 0, invalidLines: [] }
      // fileError: why the file is left alone (a symlink out of the folder, too large), if it is.
      return [ds, { entries: replica.presentCount(ds), ...invalid, fileError: folder.problem(ds) }]
    })) as Record<ListDataset, ListDatasetStatus>
    return { ...lists, bayes: { entries: engine.bayesTokens, contributors: bayes.contributorCount, ...engine.bayesFileStatus() } }
  }

  private fullArchive (): FullArchiveStatus | null {
    const ref = this.parts.engine.fullArchive
    return ref === null ? null : { version: ref.version, size: ref.size, sha256: Buffer.from(ref.sha256).toString('hex') }
  }
}
