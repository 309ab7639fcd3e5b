/**
 * `GET /metrics`: the agent's state in Prometheus text format. The gauges and traffic counters
 * are not kept here: they are set from one status snapshot per scrape, so they cannot drift
 * from what `GET /status` shows. Only what status does not keep (durations, an uncapped error
 * count) is recorded as it happens.
 */
import { Counter, Gauge, Histogram } from './exposition.js'
import type { ClusterNode } from '../cluster/health.js'
import type { ListDatasetStatus, PeerStatus, StatusDocument } from './status-document.js'

export { METRICS_CONTENT_TYPE } from './exposition.js'

/** Buckets (seconds) for transfers and merges: a few ms on a LAN up to minutes for a large Bayes DB. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

const ROLES = ['master', 'slave', 'candidate'] as const
const PEER_STATES = ['live', 'down', 'incompatible'] as const

/** The part of the status document (http/status-document.ts) that metrics read. */
export type MetricsStatus = Pick<StatusDocument, 'role' | 'term' | 'version' | 'appliedVersion' | 'bytesSent' | 'bytesReceived' | 'fetchBytesServed'> & {
  peers: ReadonlyArray<Pick<PeerStatus, 'live' | 'compatible'>>
  datasets: Record<string, Pick<ListDatasetStatus, 'entries' | 'invalidCount'>>
  /** Every known node, this one included (cluster/health.ts). */
  cluster: ReadonlyArray<Pick<ClusterNode, 'nodeId' | 'name' | 'down' | 'lagVersions' | 'lagSeconds' | 'lastSync'>>
}

/** What a sync duration measures: one upload or download exchange with a peer. */
export type SyncDirection = 'upload' | 'download'

/** The process metrics of Prometheus' client libraries that an operator's dashboards expect: CPU, memory, start time. */
class ProcessMetrics {
  private readonly cpuUser = new Counter('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.')
  private readonly cpuSystem = new Counter('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.')
  private readonly cpu = new Counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.')
  private readonly start = new Gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.')
  private readonly rss = new Gauge('process_resident_memory_bytes', 'Resident memory size in bytes.')
  private readonly heapTotal = new Gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.')
  private readonly heapUsed = new Gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.')
  private readonly external = new Gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.')
  private readonly version = new Gauge('nodejs_version_info', 'Node.js version info.', ['version', 'major', 'minor', 'patch'])

  /** Every family, its values read now. */
  families (): Array<Counter | Gauge | Gauge<'version' | 'major' | 'minor' | 'patch'>> {
    const cpu = process.cpuUsage()
    this.cpuUser.set({}, cpu.user / 1e6)
    this.cpuSystem.set({}, cpu.system / 1e6)
    this.cpu.set({}, (cpu.user + cpu.system) / 1e6)
    this.start.set({}, Math.round(Date.now() / 1000 - process.uptime()))
    const m = process.memoryUsage()
    this.rss.set({}, m.rss)
    this.heapTotal.set({}, m.heapTotal)
    this.heapUsed.set({}, m.heapUsed)
    this.external.set({}, m.external)
    const [major, minor, patch] = process.versions.node.split('.')
    this.version.set({ version: process.version, major, minor, patch }, 1)
    return [this.cpuUser, this.cpuSystem, this.cpu, this.start, this.rss, this.heapTotal, this.heapUsed, this.external, this.version]
  }
}

/** The metrics of one agent (several agents may share a process in tests). */
export class AgentMetrics {
  private readonly process = new ProcessMetrics()
  private readonly role = this.gauge('spamsync_role', 'Role of this node: 1 for the current one', ['role'])
  private readonly term = this.gauge('spamsync_term', 'Election term this node is in')
  private readonly centralTerm = this.gauge('spamsync_central_version_term', 'Term of the newest central version this node holds')
  private readonly centralSeq = this.gauge('spamsync_central_version_seq', 'Sequence of the newest central version this node holds')
  private readonly appliedTerm = this.gauge('spamsync_applied_version_term', 'Term of the central version applied to the settings files')
  private readonly appliedSeq = this.gauge('spamsync_applied_version_seq', 'Sequence of the central version applied to the settings files')
  private readonly peers = this.gauge('spamsync_peers', 'Known peers by state', ['state'])
  private readonly entries = this.gauge('spamsync_entries', 'Entries per dataset (tokens for bayes)', ['dataset'])
  private readonly invalid = this.gauge('spamsync_invalid_lines', 'Invalid lines per dataset, kept in the file and not synced', ['dataset'])
  // Per node of the cluster view, labelled with its id and name: `spamsync_node_lag_seconds > 600` alerts on a node behind for 10 minutes.
  private readonly nodeUp = this.gauge('spamsync_node_up', 'Each known node: 1 when heard from within the liveness window, else 0', ['node', 'name'])
  private readonly nodeLagVersions = this.gauge('spamsync_node_lag_versions', 'Each known node: central versions it is behind the newest one known', ['node', 'name'])
  private readonly nodeLagSeconds = this.gauge('spamsync_node_lag_seconds', 'Each known node: seconds it has known of a central version it has not applied (0 = in sync)', ['node', 'name'])
  private readonly nodeLastSync = this.gauge('spamsync_node_last_sync_timestamp_seconds', 'Each known node: time of its last successful upload or download (unset before its first)', ['node', 'name'])
  private readonly sent = new Counter('spamsync_sent_bytes_total', 'Bytes sent in uploads and downloads')
  private readonly received = new Counter('spamsync_received_bytes_total', 'Bytes received in uploads and downloads')
  private readonly fetchServed = new Counter('spamsync_fetch_served_bytes_total', 'Of the bytes sent: answers to other nodes\' fetches (fan-out spreads them over the peers)')
  private readonly errors = new Counter('spamsync_errors_total', 'Errors reported in status, by what failed', ['what'])
  private readonly syncDuration = new Histogram('spamsync_sync_duration_seconds',
    'Upload (until the master acknowledged) and download (until the archive arrived) exchanges that completed', DURATION_BUCKETS, ['direction'])

  private readonly mergeDuration = new Histogram('spamsync_merge_duration_seconds',
    'Master: checking and merging one uploaded archive, including the new central version', DURATION_BUCKETS)

  constructor () {
    // Both series exist from the start, so rate() works before the first sync.
    for (const direction of ['upload', 'download'] as const) this.syncDuration.zero({ direction })
  }

  /** Runs one upload or download exchange and records its duration when it completes. */
  async timeSync<T> (direction: SyncDirection, work: () => Promise<T>): Promise<T> {
    const end = this.syncDuration.startTimer({ direction })
    const result = await work()
    end()
    return result
  }

  /** Runs one merge of an uploaded archive and records its duration when it completes. */
  async timeMerge<T> (work: () => Promise<T>): Promise<T> {
    const end = this.mergeDuration.startTimer({})
    const result = await work()
    end()
    return result
  }

  /** Counts an error; status keeps only the last ones, so the total is counted here. */
  errorReported (what: string): void {
    this.errors.inc({ what })
  }

  /** The exposition text for one scrape, its gauges set from `status` (one snapshot per scrape). */
  async text (status: MetricsStatus): Promise<string> {
    this.update(status)
    const families = [this.role, this.term, this.centralTerm, this.centralSeq, this.appliedTerm, this.appliedSeq, this.peers, this.entries, this.invalid,
      this.nodeUp, this.nodeLagVersions, this.nodeLagSeconds, this.nodeLastSync, this.sent, this.received, this.fetchServed, this.errors,
      this.syncDuration, this.mergeDuration, ...this.process.families()]
    return families.map(f => f.text()).join('\n')
  }

  private update (s: MetricsStatus): void {
    for (const r of ROLES) this.role.set({ role: r }, s.role === r ? 1 : 0)
    this.term.set({}, s.term)
    this.centralTerm.set({}, s.version.term)
    this.centralSeq.set({}, s.version.seq)
    this.appliedTerm.set({}, s.appliedVersion.term)
    this.appliedSeq.set({}, s.appliedVersion.seq)
    const byState = new Map<string, number>(PEER_STATES.map(state => [state, 0]))
    for (const p of s.peers) {
      const state = !p.compatible ? 'incompatible' : p.live ? 'live' : 'down'
      byState.set(state, (byState.get(state) ?? 0) + 1)
    }
    for (const [state, n] of byState) this.peers.set({ state }, n)
    this.entries.reset()
    this.invalid.reset()
    for (const [dataset, d] of Object.entries(s.datasets)) {
      this.entries.set({ dataset }, d.entries)
      this.invalid.set({ dataset }, d.invalidCount)
    }
    for (const g of [this.nodeUp, this.nodeLagVersions, this.nodeLagSeconds, this.nodeLastSync]) g.reset()
    for (const n of s.cluster) {
      const labels = { node: n.nodeId, name: n.name }
      this.nodeUp.set(labels, n.down ? 0 : 1)
      this.nodeLagVersions.set(labels, n.lagVersions)
      if (n.lagSeconds !== null) this.nodeLagSeconds.set(labels, n.lagSeconds)
      if (n.lastSync !== null) this.nodeLastSync.set(labels, Date.parse(n.lastSync) / 1000)
    }
    // The traffic counter lives in the agent; mirror its value rather than count twice.
    this.sent.set({}, s.bytesSent)
    this.received.set({}, s.bytesReceived)
    this.fetchServed.set({}, s.fetchBytesServed)
  }

  private gauge<L extends string = never> (name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return new Gauge(name, help, labelNames)
  }
}
