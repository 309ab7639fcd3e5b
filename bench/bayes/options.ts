/** The Bayes benchmark's options, their defaults and the targets it is held to. */

/** Targets on the reference machine (2 cores). */
export const TARGETS = {
  // Issue 17: 1M tokens x 3 nodes end to end <= 2 s on a quiet machine, <= 6 bytes a token on
  // the wire, peak RSS per agent <= 256 MB during the sync (512 MB at 5M tokens).
  e2eMs: 2_000,
  wireBytesPerToken: 6,
  mergeTokensPerSec: 500_000,
  deltaBytesPerReceiver: 20 * 1024,
  rssMB: 256,
  // Issue 17: an idle agent with a 1M-token DB.
  idleRssMB: 128
} as const

/** Issue 17's peak RSS per agent for a DB of this many tokens per node: 256 MB up to 1M, 512 MB at 5M. */
export function rssTargetMB (tokens: number): number {
  return tokens > 1_000_000 ? 2 * TARGETS.rssMB : TARGETS.rssMB
}

/** What main() may be told; every field has a default (the brief's numbers). */
export interface BayesBenchOptions {
  /** Tokens per node (default 1,000,000). */
  tokens?: number
  /** Share of each node's tokens from the pool common to all nodes (default 0.5). */
  overlap?: number
  /** Learned messages (= seen ids) per node (default 4000). */
  messages?: number
  /** PRNG seed (default 1). */
  seed?: number
  /** How the e2e step starts (default after-start). */
  mode?: 'after-start' | 'prefill' | 'both'
  /** Phases to run (default all). */
  phases?: Array<'processes' | 'e2e' | 'delta' | 'merge'>
  /** Repetitions of the delta step (default 3). */
  deltaReps?: number
  /** Repetitions of the merge measures (default 3). */
  mergeReps?: number
  /** CPU-profile the e2e step (default false). */
  profile?: boolean
  /** Keep the e2e .cpuprofile here. */
  profileOut?: string
  /** Processes phase: each agent's log (level info) and CPU profile (--cpu-prof) go into this folder. */
  agentOut?: string
  /** Processes phase: MALLOC_ARENA_MAX of the agents (default 0: not set, so the agent sets 2 itself). */
  mallocArenaMax?: number
  /** Processes phase: MALLOC_MMAP_THRESHOLD_ of the agents (default 0: not set, glibc's dynamic threshold). */
  mallocMmapThreshold?: number
  /** Give up waiting for the e2e convergence after this many seconds (default 180). */
  timeoutSeconds?: number
  /** Print JSON and table (default true). */
  print?: boolean
}

export const NODES = 3
export const POLL_MS = 50

export const DEFAULTS: Required<BayesBenchOptions> = {
  tokens: 1_000_000,
  overlap: 0.5,
  messages: 4000,
  seed: 1,
  mode: 'after-start',
  phases: ['processes', 'e2e', 'delta', 'merge'],
  deltaReps: 3,
  mergeReps: 3,
  profile: false,
  profileOut: '',
  agentOut: '',
  mallocArenaMax: 0,
  mallocMmapThreshold: 0,
  timeoutSeconds: 180,
  print: true
}
