/** What the syncthing comparison is told and what it returns, and the fixed sizes of both sides. */
import type { Summary } from '../cluster/types.js'
import type { ListName } from '../lists.js'

/** What main() may be told. */
export interface SyncthingBenchOptions {
  /** One-line changes timed per tool (default 10). */
  reps?: number
  /** The list both tools sync (default 121k). */
  list?: ListName
  /** Print JSON and table (default true). */
  print?: boolean
}

/** One tool's numbers. */
export interface ToolResult {
  tool: 'syncthing' | 'spamsync'
  version: string
  nodes: number
  /**
   * From the list dropped into the first node's folder of the running, settled cluster until
   * every other node's copy holds every line (null: not within 300 s).
   */
  initialSyncMs: number | null
  /** That time for each other node. */
  perFileMs?: Array<number | null>
  /** Every receiver's time for every change. */
  propagation: Summary
  /** Per change, the slower of the two receivers. */
  perRepMax: Summary
  samplesMs: Array<number | null>
  timeouts: number
  /** Per change: the tool's own counters, sum over all nodes / receivers. */
  appBytesPerReceiver: Summary
  appBytesSamples: number[]
  appBytesMethod: string
  /** Per change: TCP payload bytes acknowledged (ss), sum over all nodes / receivers; null without ss. */
  tcpBytesPerReceiver: Summary | null
  tcpBytesSamples: number[]
  /** Sockets that closed during a change (their bytes are missing from the TCP count). */
  tcpSocketsClosed: number
}

/** A side that could not be measured, and why. */
export interface Skipped { skipped: string }

/** Everything main() measured. */
export interface SyncthingBenchResult {
  bench: 'syncthing'
  node: string
  cpus: number
  list: ListName
  listSource: string
  domains: number
  listBytes: number
  reps: number
  pollMs: number
  loadAvg: { start: number, end: number }
  wallMs: number
  syncthing: ToolResult | Skipped
  spamsync: ToolResult | Skipped
  /** Peers outside 127.0.0.1 seen on syncthing's sockets (must be empty), how often and how many sockets were looked at. */
  loopbackCheck: LoopbackCheck | null
}

/** The check that syncthing only talks to 127.0.0.1. */
export interface LoopbackCheck { samples: number, socketsSeen: number, foreignPeers: string[] }

export const NODES = 3
export const POLL_MS = 10
export const FILE = 'blacklist.txt'
