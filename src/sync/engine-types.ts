/**
 * The shapes the sync engine is wired with (agent.ts and the tests build them): the election as
 * it sees it, its way to the other nodes, its hooks and its parts.
 */
import type { ListDataset } from '../constants.js'
import type { FanOutPeers } from './fan-out.js'
import type { UploadOutcome } from '../protocol/upload-service.js'
import type { ListReplica } from '../replica/list-replica.js'
import type { SettingsFolder } from '../replica/settings-folder.js'
import type { StateStore } from '../store/state-store.js'
import type { BayesParts } from './settings-writer.js'
import type { TransferReport } from './transfer.js'
import type { HistoryBound } from './history-bound.js'

export type { BayesParts, SyncErrorReport, TransferReport }
export type { HistoryItem } from './version-history.js'
import type { SyncErrorReport } from './error-log.js'
import type { KnownMember, TombstoneOptions } from '../crdt/tombstone-floor.js'

/** The election as the engine sees it. */
export interface RoleView {
  readonly role: 'master' | 'slave' | 'candidate'
  readonly masterId: string | null
  readonly term: number
}

/** The engine's way to the other nodes. */
export interface SyncNetwork {
  /** Uploads an archive to the master. */
  upload: (masterId: string, req: { kind: 'full' | 'delta', baseTerm: number, baseLseq: number }, zip: Uint8Array) => Promise<UploadOutcome>
  /** Fetches the central changes since `since` from `peerId`, or exactly `archive` when given. */
  fetch: FanOutPeers['fetch']
  /** Live peers whose beacon announces a full archive. */
  holders: FanOutPeers['holders']
  /** A live node that may still come to hold a full archive. */
  awaited: FanOutPeers['awaited']
  /** Tells the cluster about a new central version at once (not at the next heartbeat). */
  announce: () => void
}

/** A dataset whose settings file a sync writes: a list file, or bayes.txt. */
export type WrittenDataset = ListDataset | 'bayes'

/** Hooks the engine calls; the agent wires them to logs, metrics and commands. */
export interface EngineHooks {
  /** Settings files an apply or merge changed (bayes.txt once it is written and imported). */
  onFilesChanged?: (datasets: WrittenDataset[]) => void | Promise<void>
  /** List files the operator (or a tool of theirs) edited on this node, after they were scanned in. */
  onLocalEdits?: (datasets: ListDataset[]) => void | Promise<void>
  /** An error worth showing to the operator; a repeat comes again with its count raised. */
  onError?: (report: SyncErrorReport) => void
}

/** Parts the engine works on. */
export interface EngineParts {
  nodeId: string
  store: StateStore
  replica: ListReplica
  folder: SettingsFolder
  roles: RoleView
  network: SyncNetwork
  strictVersion: boolean
  /** Central versions the master keeps (records and list snapshots) for history and rollback. */
  historyVersions: number
  /** Bytes of list content the history may keep (default DEFAULT_HISTORY_BOUND). */
  historyBound?: HistoryBound
  hooks?: EngineHooks
  now?: () => number
  /** The Bayes dataset, when it is synced. */
  bayes?: BayesParts
  /** Full archives go from peer to peer (fan-out.ts); off: every node fetches from the master only. */
  fanOut: boolean
  /** A live or connected node, whose Bayes contribution no other node's upload may grow (default: none). */
  speaksForItself?: (nodeId: string) => boolean
  /** A node's name by its id, for the history records (default: none kept). */
  nameOf?: (nodeId: string) => string | undefined
  /** The other members and the versions their beacons say they applied, for the tombstone floor (default: none, a lone node). */
  members?: () => readonly KnownMember[]
  /** How long tombstones wait (tombstones.ts; defaults there). */
  tombstones?: Partial<TombstoneOptions>
}
