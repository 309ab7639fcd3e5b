/**
 * Renders the collected results of `npm run bench` (bench/results.json) as bench/RESULTS.md:
 * the machine and date first, then one table per benchmark. Pure: no fs, no clock.
 */
import type { BayesBenchResult } from './bayes/table.js'
import type { ClusterBenchResult } from './cluster/types.js'
import { footprintTable, type FootprintResult } from './footprint/table.js'
import type { LocalBenchResult } from './local/harness.js'
import { comparisonRows } from './syncthing/table.js'
import type { SyncthingBenchResult } from './syncthing/types.js'
import type { ScaleSimResult } from './scale-sim.js'
import { SCALE_TARGETS } from './sim/model.js'

/** Where and when the benchmarks ran. */
export interface MachineInfo {
  /** ISO date of the start. */
  date: string
  hostname: string
  platform: string
  cpuModel: string
  cpus: number
  totalMemMB: number
  node: string
  /** 1, 5 and 15-minute load averages before the first and after the last benchmark. */
  loadBefore: number[]
  loadAfter: number[]
}

/** Everything one `npm run bench` collected. */
export interface BenchResults {
  machine: MachineInfo
  /** Smaller sizes and fewer repetitions (`--quick`). */
  quick: boolean
  wallSeconds: number
  /** What each benchmark was asked for (sizes, reps). */
  plan: Record<string, unknown>
  local?: LocalBenchResult
  cluster?: ClusterBenchResult
  /** One per token count. */
  bayes?: BayesBenchResult[]
  syncthing?: SyncthingBenchResult
  /** Results of benchmarks this renderer has no table for (shown as their numeric fields). */
  other?: Record<string, unknown>
  /** Benchmarks that threw, with the error. */
  errors: Record<string, string>
}

/** A Markdown table; `|` in cells is escaped. */
export function mdTable (head: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cell = (c: string | number | null | undefined): string => c === null || c === undefined || c === '' ? '-' : String(c).replace(/\|/g, '\\|').replace(/\n/g, ' ')
  return [
    `| ${head.map(cell).join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map(r => `| ${r.map(cell).join(' | ')} |`)
  ].join('\n')
}

const ms = (x: number | null | undefined): string => x === null || x === undefined ? 'n/a' : `${Math.round(x)} ms`
const bytes = (x: number | null | undefined): string => x === null || x === undefined ? 'n/a' : `${Math.round(x)} B`
const load = (l: number[]): string => l.map(x => x.toFixed(2)).join(' / ')
const ok = (x: boolean | null | undefined): string => x === null || x === undefined ? '' : x ? 'yes' : 'NO'

function machineSection (r: BenchResults): string {
  const m = r.machine
  return [
    `Measured ${m.date} on ${m.hostname}${r.quick ? ' with `--quick` (smaller sizes, fewer repetitions: a smoke run, not the reference numbers)' : ''}; all benchmarks took ${Math.round(r.wallSeconds)} s.`,
    '',
    mdTable(['machine', 'value'], [
      ['CPU', `${m.cpus} x ${m.cpuModel}`],
      ['RAM', `${Math.round(m.totalMemMB / 1024 * 10) / 10} GiB`],
      ['OS', m.platform],
      ['Node.js', m.node],
      ['load 1/5/15 min before', load(m.loadBefore)],
      ['load 1/5/15 min after', load(m.loadAfter)]
    ]),
    '',
    `A load above ${m.cpus} means other work shared the CPUs: wall times are then longer than on a quiet machine.`
  ].join('\n')
}

function localSection (l: LocalBenchResult): string {
  return [
    '## Local operations (one node)',
    '',
    `${l.domains}-line blacklist (${l.keys} keys, ${l.listBytes} B), full archive ${l.archiveBytes} B, ${l.reps} repetitions, load ${l.loadAvg.start.toFixed(2)} -> ${l.loadAvg.end.toFixed(2)}.`,
    '',
    mdTable(['measure', 'median', 'target', 'ok', 'CPU median'], Object.entries(l.measures).map(([name, m]) => [
      name, ms(m.medianMs), m.targetMs === null ? '' : ms(m.targetMs), ok(m.ok), m.cpuMedianMs === null ? '' : ms(m.cpuMedianMs)
    ]))
  ].join('\n')
}

function clusterSections (c: ClusterBenchResult): string {
  const out: string[] = []
  if (c.propagation !== undefined) {
    out.push('## Propagation of a one-line change', '',
      'A line appended to one node\'s blacklist.txt, timed until it is in every other node\'s file (polled every 10 ms); percentiles over every (change, receiver) sample.', '',
      mdTable(['nodes', 'p50', 'p95', 'max', 'samples', 'timeouts', 'master changes', 'load during'], c.propagation.map(p => [
        p.nodes, ms(p.samples.p50), ms(p.samples.p95), ms(p.samples.max), p.samples.n, p.timeouts, p.masterChanges, `${p.load.loadavgStart} -> ${p.load.loadavgEnd}`
      ])))
  }
  if (c.bytes !== undefined) {
    out.push('', '## Bytes per receiving node for a one-line change', '',
      'Sync-stream bytes (agents\' `bytesSent`) of all nodes for one line added on a slave, divided by the receiving nodes; the full archive is `spamsync export` of a node holding the same list.', '',
      mdTable(['list', 'source', 'entries', 'list file', 'full archive', 'sent / receiver', 'master sent / receiver', 'change on all', 'note'], c.bytes.map(b => [
        b.list, b.source, b.keys, bytes(b.listBytes), bytes(b.exportBytes), bytes(b.totalSentPerReceiver), bytes(b.masterSentPerReceiver), ms(b.changeMs),
        b.clean ? '' : 'every attempt had an election (full re-syncs counted)'
      ])))
  }
  const f = c.failover
  if (f !== undefined) {
    out.push('', '## Failover', '',
      `The master of ${f.nodes} nodes killed with SIGKILL; a line is appended on the surviving slave as soon as a new master is elected; time from the kill until the line is on both survivors. ${f.trials} trials, load ${f.load.loadavgStart} -> ${f.load.loadavgEnd}.`, '',
      mdTable(['measure', 'p50', 'max', 'every sample'], [
        ['kill -> change applied everywhere', ms(f.changeOnSurvivors.p50), ms(f.changeOnSurvivors.max), f.trialDetail.map(t => Math.round(t.changeOnSurvivorsMs)).join(' ')],
        ['kill -> new master elected', ms(f.elected.p50), ms(f.elected.max), f.trialDetail.map(t => Math.round(t.electedMs)).join(' ')],
        ['restart of the killed node -> stable', ms(f.rejoin.p50), ms(f.rejoin.max), f.trialDetail.map(t => Math.round(t.rejoinMs)).join(' ')]
      ]))
  }
  for (const [step, err] of Object.entries(c.errors)) out.push('', `**cluster ${step} failed:** ${err.split('\n')[0]}`)
  return out.join('\n')
}

function bayesSection (list: BayesBenchResult[]): string {
  const rows = list.map((b) => {
    const e = b.e2e[0]
    return [
      b.options.tokens,
      e === undefined ? 'n/a' : e.converged ? ms(e.e2eMs) : `not converged after ${ms(e.e2eMs)}`,
      b.merge === null ? 'n/a' : `${Math.round(b.merge.replicaMerge.tokensPerSec)}`,
      b.merge === null ? 'n/a' : `${b.merge.archive.oneContributionBytesPerToken}`,
      e === undefined ? 'n/a' : e.slaveUploadBytesPerToken.join(' / '),
      b.delta === null ? 'n/a' : `${ms(b.delta.medianMs)}, ${bytes(b.delta.medianTotalSentPerReceiver)}`,
      b.rss.clusterPeakMB === null ? 'n/a' : `${b.rss.clusterPeakMB} MB`,
      b.rss.perAgentEstimateMB === null ? 'n/a' : `${b.rss.perAgentEstimateMB} MB`,
      `${b.loadAvg.start.toFixed(2)} -> ${b.loadAvg.end.toFixed(2)}`
    ]
  })
  const processRows = list.filter(b => b.processes !== null && b.processes !== undefined).map((b) => {
    const p = b.processes!
    return [
      b.options.tokens,
      p.converged ? ms(p.ms) : `not converged after ${ms(p.ms)}`,
      p.rssPeakMB.map(x => `${x} MB`).join(' / '),
      p.cpuSeconds.map(x => `${x} s`).join(' / '),
      `${p.slaveUploadBytesPerToken.join(' / ')} up, ${p.slaveDownloadBytesPerNeededToken.join(' / ')} down`,
      p.roles.join(' / '),
      p.terms.join(' / ')
    ]
  })
  const problems = list.flatMap(b => b.problems.map(p => `- ${b.options.tokens} tokens: ${p.split('\n')[0]}`))
  return [
    '## Bayes',
    '',
    'Three agents, each with a generated DB of N tokens (50% shared); end-to-end until every bayes.txt is the merged DB.',
    '',
    'Three agent processes (`spamsync start`), each its own RSS (VmHWM):',
    '',
    mdTable(['tokens / node', 'end-to-end', 'RSS peak per agent', 'CPU per agent during the sync', 'slave B/token', 'roles', 'terms at the end'], processRows),
    '',
    'The same three agents in the bench process (RSS per agent is the process peak / 3, an estimate):',
    '',
    mdTable(['tokens / node', 'end-to-end', 'merge (BayesReplica) tokens/s', 'archive B/token', 'slave upload B/token', 'delta (10 msgs): time, B/receiver', 'RSS peak (3 agents)', 'RSS / agent (est.)', 'load'], rows),
    ...(problems.length > 0 ? ['', 'Problems:', ...problems] : [])
  ].join('\n')
}

function syncthingSection (s: SyncthingBenchResult): string {
  const notes: string[] = []
  for (const side of [s.syncthing, s.spamsync]) if ('skipped' in side) notes.push(`- skipped: ${side.skipped}`)
  if (s.loopbackCheck !== null) {
    notes.push(s.loopbackCheck.foreignPeers.length === 0
      ? `- syncthing's sockets were checked ${s.loopbackCheck.samples} times (${s.loopbackCheck.socketsSeen} socket looks): only 127.0.0.1 peers.`
      : `- **syncthing talked outside 127.0.0.1:** ${s.loopbackCheck.foreignPeers.join(', ')}`)
  }
  for (const side of [s.syncthing, s.spamsync]) if (!('skipped' in side)) notes.push(`- ${side.tool} own counters: ${side.appBytesMethod}.`)
  notes.push('- TCP (ss): payload bytes the peers acknowledged on every TCP socket of the processes except their HTTP/REST port (encryption, muxing and control messages included).')
  return [
    '## spamsync next to syncthing',
    '',
    `${s.domains}-line ${s.list} list (${s.listSource}) on 3 nodes of each tool in the same run; ${s.reps} one-line changes appended on the first node, files polled every ${s.pollMs} ms; bytes are sent by all nodes / 2 receivers, medians. Load ${s.loadAvg.start} -> ${s.loadAvg.end}.`,
    '',
    mdTable(['measure', 'syncthing', 'spamsync'], comparisonRows(s)),
    '',
    ...notes
  ].join('\n')
}

/** One side (fan-out on or off) of bench/fanout.ts's result, as far as the table reads it. */
interface FanoutSide { runs: number, masterServedBytes: number, masterArchives: number, allHaveMs: number, fromSlaves: number, allIdentical: boolean }

function fanoutSection (f: { nodes: number, reps: number, domains: number, on: FanoutSide, off: FanoutSide, runs?: Array<{ archiveBytes?: number }> }): string {
  const archive = f.runs?.[0]?.archiveBytes
  const row = (name: string, side: FanoutSide): Array<string | number> =>
    [name, bytes(side.masterServedBytes), `${side.masterArchives}${archive === undefined ? '' : ` (${(side.masterServedBytes / archive).toFixed(2)}x)`}`, side.fromSlaves, ms(side.allHaveMs), side.allIdentical ? 'yes' : 'NO']
  return [
    '## Fan-out: master bytes out',
    '',
    `${f.nodes} agent processes, one new ${f.domains}-line blacklist on the master${archive === undefined ? '' : ` (full archive ${bytes(archive)})`}, medians of ${f.reps} runs; target: the master sends at most 3 archives.`,
    '',
    mdTable(['fan-out', 'master sent', 'archives', 'slaves served by a peer', 'all hold the list after', 'all identical'], [row('on', f.on), row('off', f.off)])
  ].join('\n')
}

/** Numeric leaves of a value, as `path = value` rows (for results with no table of their own). */
function numericLeaves (value: unknown, path = '', out: Array<[string, number]> = []): Array<[string, number]> {
  if (typeof value === 'number') out.push([path, value])
  else if (Array.isArray(value)) value.forEach((v, i) => numericLeaves(v, `${path}[${i}]`, out))
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) numericLeaves(v, path === '' ? k : `${path}.${k}`, out)
  return out
}

/** The whole RESULTS.md. */
export function renderResults (r: BenchResults): string {
  const parts = ['# Benchmark results', '', '<!-- generated by `npm run bench` (bench/run.ts) from bench/results.json; do not edit -->', '', machineSection(r)]
  if (r.local !== undefined) parts.push('', localSection(r.local))
  if (r.cluster !== undefined) parts.push('', clusterSections(r.cluster))
  if (r.bayes !== undefined && r.bayes.length > 0) parts.push('', bayesSection(r.bayes))
  if (r.syncthing !== undefined) parts.push('', syncthingSection(r.syncthing))
  for (const [name, value] of Object.entries(r.other ?? {})) {
    if (name === 'fanout') {
      parts.push('', fanoutSection(value as Parameters<typeof fanoutSection>[0]))
      continue
    }
    if (name === 'footprint') {
      parts.push('', '## Idle footprint', '', footprintTable(value as FootprintResult))
      continue
    }
    if (name === 'sim') {
      parts.push('', simSection(value as ScaleSimResult))
      continue
    }
    parts.push('', `## ${name}`, '', mdTable(['field', 'value'], numericLeaves(value).slice(0, 60)))
  }
  const errors = Object.entries(r.errors)
  if (errors.length > 0) parts.push('', '## Failed', '', ...errors.map(([name, err]) => `- ${name}: ${err.split('\n')[0]}`))
  return parts.join('\n') + '\n'
}

const kb = (b: number): string => b >= 1e6 ? `${Math.round(b / 1e5) / 10} MB` : b >= 1e4 ? `${Math.round(b / 100) / 10} kB` : `${b} B`
const simMs = (x: number | null): string => x === null ? 'timeout' : x >= 10_000 ? `${Math.round(x / 100) / 10} s` : `${Math.round(x)} ms`

/** The table of a scale simulation (bench/scale-sim.ts). */
export function simTable (r: ScaleSimResult): string {
  return mdTable(
    ['nodes', 'beacons / node / s', 'beacon B / node / s', 'master / slave p50 / busiest B/s', 'on the wire (est.)', 'every node under 1 KB/s', 'change on all, p50 / max', 'under 2 s', 'failover: new master', 'all applied', 'new master sent', 'full uploads merged', 'restarted node: introductions sent', 'sim time'],
    r.rows.map(x => [
      x.nodes,
      x.beacon.framesPerNodePerS,
      x.beacon.bytesPerNodePerS,
      `${x.beacon.masterBytesPerS ?? '-'} / ${x.beacon.slaveBytesPerSP50 ?? '-'} / ${x.beacon.maxBytesPerS}`,
      x.beacon.wireBytesPerNodePerS,
      ok(x.beacon.maxBytesPerS <= SCALE_TARGETS.beaconBytesPerNodePerS),
      `${simMs(x.change.p50Ms)} / ${simMs(x.change.maxMs)}`,
      ok(x.change.timeouts === 0 && x.change.maxMs !== null && x.change.maxMs <= SCALE_TARGETS.changeOnAllMs),
      simMs(x.failover.electedMs),
      simMs(x.failover.allAppliedMs),
      `${x.failover.masterArchives} x ${kb(x.failover.archiveBytes)} (peers ${x.failover.peerArchives})`,
      `${x.failover.fullUploads} (${kb(x.failover.uploadBytes)}) after ${simMs(x.failover.uploadsMergedMs)}`,
      `${x.rejoin.introFrames} (${kb(x.rejoin.introBytes)}); others ${x.rejoin.introFramesPerOther} each`,
      `${Math.round(x.wallMs / 100) / 10} s`
    ])
  )
}

function simSection (r: ScaleSimResult): string {
  return [
    '## Scale by simulation',
    '',
    `The real election, beacon bytes and fan-out on a virtual network (bench/scale-sim.ts; protocol/scale.md): links ${r.latencyMs[0]}-${r.latencyMs[1]} ms, ${r.bandwidthMbitPerS} Mbit/s per node, fan-out ${r.fanOut ? 'on' : 'off'}, relayed heartbeat ${r.relay ? 'on' : 'off'}, seed ${r.seed}. Failover: the master killed; the new term's first version is a full archive (${kb(r.costs.fullArchiveBytes)}) on every survivor.`,
    '',
    simTable(r)
  ].join('\n')
}
