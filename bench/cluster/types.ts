/** What the cluster benchmark is told, the targets it is held to and the results it returns. */
import type { ListName } from '../lists.js'

/** Targets on the reference machine. */
export const TARGETS = {
  propagationP50Ms: 1000,
  propagationP95Ms: 2000,
  bytesPerReceiver: 2048,
  failoverMs: 5000
} as const

/** What main() may be told; every field has a default (the brief's numbers). */
export interface ClusterBenchOptions {
  /** Phases to run (default all three). */
  phases?: Array<'propagation' | 'bytes' | 'failover'>
  /** Sizes of the propagation clusters, one cluster each (default 2, 5, 10, 20). */
  propagationSizes?: number[]
  /** Propagation trials per size (default 20). */
  propagationTrials?: number
  /** Pause between propagation trials (default 300 ms). */
  trialPauseMs?: number
  /** Nodes of the bytes cluster (default 3). */
  bytesNodes?: number
  /** Lists of the bytes phase, one cluster each (default 10k, 121k, 1M). */
  bytesLists?: ListName[]
  /** One-line changes timed per list in the bytes phase (the first as before, then more on the same origin, for a median). */
  bytesChanges?: number
  /** Seconds between the extra one-line changes of the bytes phase (default 3). */
  changePauseS?: number
  /** Failover trials (default 10). */
  failoverTrials?: number
  /** Seed of the random choice of origin nodes (default: from the clock; printed). */
  seed?: number
  /** Print JSON and table (default true). */
  print?: boolean
}

/** A timing summary. */
export interface Summary {
  n: number
  p50: number | null
  p95: number | null
  max: number | null
  min: number | null
}

/** Result of the propagation phase. */
export interface PropagationResult {
  nodes: number
  trials: number
  startMs: number
  stableMs: number
  /** Over every (trial, receiver) sample. */
  samples: Summary
  /** Per-trial maximum over receivers. */
  perTrialMax: Summary
  /** Samples split by the origin's role. */
  fromMaster: Summary
  fromSlave: Summary
  timeouts: number
  /** Lines that were not on every node at the end (should be empty). */
  missingAtEnd: string[]
  /** Elections that happened during the trials (master or term changed; should be 0). */
  masterChanges: number
  /** Origin write until the master's status shows the new central version (upload + merge + cut). */
  toMaster: Summary
  /** Load on the machine and CPU the agents used during the trials. */
  load: LoadReport
  trialDetail: Array<{ trial: number, origin: number, originRole: string, maxMs: number | null, toMasterMs: number | null, agentCpuMs: number | null, samplesMs: Array<number | null> }>
}

/** How busy the machine was: other processes share the CPUs with the agents. */
export interface LoadReport {
  /** 1-minute load average at the start and end of the measured part. */
  loadavgStart: number
  loadavgEnd: number
  /** CPU seconds all agents used in the measured part, and per wall second (cores). */
  agentCpuSeconds: number | null
  agentCores: number | null
  /** CPU seconds this benchmark process used meanwhile (its polling of files and status). */
  benchCpuSeconds: number
  wallSeconds: number
}

/** Result of the bytes phase for one list. */
export interface BytesResult {
  list: ListName
  /** Where the list's domains come from. */
  source: string
  /** Size of the blacklist.txt the first node starts with. */
  listBytes: number
  nodes: number
  domains: number
  keys: number
  startMs: number
  /** From the first start until every node holds every key and the versions agree. */
  convergeMs: number
  /** False when every attempt saw a term change (the numbers then include full re-syncs). */
  clean: boolean
  /** From the one-line change until every node's file has it. */
  changeMs: number
  /** changeMs of every timed change (the first, then the --changes extra ones, polled every 10 ms), and their median. */
  changeSamplesMs: number[]
  changeMedianMs: number
  /** Sum of bytesSent of all nodes for the change / (N-1). */
  totalSentPerReceiver: number
  /** Sum of bytesReceived of all nodes for the change / (N-1). */
  totalReceivedPerReceiver: number
  /** The master's bytesSent for the change / (N-1). */
  masterSentPerReceiver: number
  /** Per node, for the change. */
  perNode: Array<{ node: number, role: string, sentDelta: number, receivedDelta: number }>
  /** Every attempt of the one-line change (the reported one is the first without a term change). */
  attempts: Array<{
    attempt: number
    origin: number
    masterBefore: number
    masterAfter: number
    termBefore: number
    termAfter: number
    changeMs: number
    totalSentPerReceiver: number
    totalReceivedPerReceiver: number
    masterSentPerReceiver: number
    perNode: Array<{ node: number, role: string, sentDelta: number, receivedDelta: number }>
  }>
  /** Slaves' bytesReceived during the initial convergence / (N-1). */
  initialReceivedPerSlave: number
  /** Zip bytes of the full download the slaves last applied (status lastDownload), if full. */
  fullDownloadBytes: number[]
  /** `spamsync export` of a stopped node. */
  exportBytes: number | null
  /** Changes of the cluster's state while it converged: `ms node:role/term/entries/applied ...`. */
  convergeTimeline: string[]
  /** The master killed after the change: time until the survivors agree again, bytes they moved (121k list only). */
  failover?: { syncedMs: number, perNode: Array<{ node: number, role: string, sentDelta: number, receivedDelta: number }>, timeline: string[] }
}

/** Result of the failover phase. */
export interface FailoverResult {
  nodes: number
  trials: number
  startMs: number
  /** Kill until a survivor is master and the other follows it. */
  elected: Summary
  /** Kill until the change made on the surviving slave right after the election is on both survivors. */
  changeOnSurvivors: Summary
  /** From writing that change until it is on both survivors. */
  changeAfterWrite: Summary
  /** Restart of the killed node until one stable master and equal versions on all three. */
  rejoin: Summary
  load: LoadReport
  trialDetail: Array<{ trial: number, killed: string, newMaster: string, termBefore: number, termAfter: number, electedMs: number, changeOnSurvivorsMs: number, changeAfterWriteMs: number, rejoinMs: number, restartedHasChange: boolean }>
}

/** Everything main() measured. */
export interface ClusterBenchResult {
  bench: 'cluster'
  node: string
  platform: string
  cpus: number
  seed: number
  wallMs: number
  /** One per cluster size. */
  propagation?: PropagationResult[]
  /** One per list. */
  bytes?: BytesResult[]
  failover?: FailoverResult
  /** Steps (a cluster size, a list, failover) that failed, with their error. */
  errors: Record<string, string>
}
