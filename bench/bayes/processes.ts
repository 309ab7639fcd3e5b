/** The Bayes benchmark's `processes` phase: the e2e step with every agent a real `spamsync start` process. */
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { readControlToken } from '../../src/http/control-token.js'
import { mergeContributions, type BayesDb } from '../../src/crdt/bayes-counters.js'
import { formatSaBackup } from '../../src/settings/sa-backup.js'
import { Cluster as ProcessCluster, waitFor, type AgentProcess } from '../../test/helpers/agents.js'
import { expectedOf } from './agents.js'
import { asContributions, generateDbs, sha256 } from './data.js'
import { log, round, sleep } from './measure.js'
import { type BayesBenchOptions, NODES, POLL_MS } from './options.js'

/** The e2e step with every agent a real `spamsync start` process: honest time and RSS per agent. */
export interface ProcessE2eResult {
  converged: boolean
  /** From the POST /sync?upload=1 calls until every bayes.txt is the expected file. */
  ms: number
  perNodeMs: Array<number | null>
  roles: string[]
  /** Peak RSS of each agent process (VmHWM: over its whole life) and its RSS when converged. */
  rssPeakMB: number[]
  rssConvergedMB: number[]
  /** CPU seconds each agent process used from the start of the sync until every file was the expected one. */
  cpuSeconds: number[]
  /** Election term of each node at the end (above the start's: an election happened mid-sync). */
  terms: number[]
  /** Bytes each node sent and received by its /metrics counters (all sync streams, both ways). */
  sentBytes: number[]
  receivedBytes: number[]
  slaveUploadBytesPerToken: number[]
  slaveDownloadBytesPerNeededToken: number[]
  /**
   * One slave stopped and started again on its folders (holding the synced DB: every node's 1M
   * contribution): its peak RSS while loading and its RSS once idle (IDLE_AFTER_RESTART_MS after
   * its status answered). Null when the run did not converge.
   */
  restart: { peakMB: number, idleMB: number } | null
}

/** How long a restarted agent is left idle before its RSS is read. */
const IDLE_AFTER_RESTART_MS = 15_000

/** VmHWM and VmRSS of a process, in MB (0 when it is gone). */
async function procRss (pid: number | undefined): Promise<{ peakMB: number, rssMB: number }> {
  const text = pid === undefined ? '' : await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0)
  return { peakMB: round(kb('VmHWM') / 1024), rssMB: round(kb('VmRSS') / 1024) }
}

/** CPU seconds (user + system) a process used so far, 0 when it is gone (clock ticks of 1/100 s, as Linux reports them). */
async function procCpuSeconds (pid: number | undefined): Promise<number> {
  const text = pid === undefined ? '' : await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  // Fields after the command name (which may hold spaces) start at the state, field 3; utime and stime are 14 and 15.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return fields.length < 13 ? 0 : (Number(fields[11]) + Number(fields[12])) / 100
}

/** A counter of an agent's /metrics, 0 when absent; asked again while a busy agent does not answer. */
async function metric (a: AgentProcess, name: string): Promise<number> {
  const text = await waitFor(`/metrics of ${a.nodeId}`, async () => {
    const res = await fetch(`http://127.0.0.1:${a.httpPort}/metrics`, { signal: AbortSignal.timeout(10_000) })
    return await res.text()
  }, 120_000)
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)
  return m === null ? 0 : Number(m[1])
}

// eslint-disable-next-line max-lines-per-function -- one measured sequence: the figures are read while the agent processes still run
export async function processPhase (o: Required<BayesBenchOptions>, onCluster: (c: ProcessCluster) => void): Promise<ProcessE2eResult> {
  let dbs: BayesDb[] | null = generateDbs(o.tokens, o.overlap, o.messages, o.seed)
  const merged = mergeContributions(asContributions(dbs))
  const want = expectedOf(merged, formatSaBackup(merged))
  const ownTokens = dbs.map(db => db.tokens.keys.length)
  const texts = dbs.map(db => formatSaBackup(db))
  // eslint-disable-next-line no-useless-assignment -- drops the only reference so the generated DBs can be freed while the agents run
  dbs = null
  const cluster = await ProcessCluster.create()
  onCluster(cluster)
  // The agents inherit the environment: NODE_OPTIONS makes each write its CPU profile on exit.
  const saved = { NODE_OPTIONS: process.env.NODE_OPTIONS, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ }
  if (o.agentOut !== '') process.env.NODE_OPTIONS = `${saved.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${o.agentOut}`.trim()
  if (o.mallocArenaMax > 0) process.env.MALLOC_ARENA_MAX = String(o.mallocArenaMax)
  else delete process.env.MALLOC_ARENA_MAX
  if (o.mallocMmapThreshold > 0) process.env.MALLOC_MMAP_THRESHOLD_ = String(o.mallocMmapThreshold)
  else delete process.env.MALLOC_MMAP_THRESHOLD_
  const agents = await cluster.startAll(NODES, ['--bayes-scan-interval-seconds', '0', '--log-level', o.agentOut === '' ? 'warn' : 'info']).finally(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  })
  // A live master stays master (election-v1.md, "Stability"): a smaller node id never takes over,
  // so any master followed by all is the one the sync runs under. (Waiting for the smallest id to
  // be master timed out whenever another node won the first election: 11 of 24 runs.)
  await cluster.waitForOneMaster(agents, o.timeoutSeconds * 1000)
  const roles = await Promise.all(agents.map(async a => await waitFor(`status of ${a.nodeId}`, async () => (await a.status()).role as string, 60_000)))
  const files = agents.map(a => join(a.settingsDir, 'bayes.txt'))
  for (const [i, text] of texts.entries()) await writeFile(files[i], text)
  texts.length = 0
  log(`processes: ${NODES} agents up (${roles.join('/')}), files written; syncing`)
  const cpu0 = await Promise.all(agents.map(async a => await procCpuSeconds(a.proc?.pid)))
  // Read before the clock starts; every POST carries the node's control token.
  const tokens = await Promise.all(agents.map(async a => await readControlToken(a.dataDir)))
  const t0 = performance.now()
  for (const [i, a] of agents.entries()) {
    fetch(`http://127.0.0.1:${a.httpPort}/sync?upload=1&download=0`, { method: 'POST', headers: { authorization: `Bearer ${tokens[i] ?? ''}` }, signal: AbortSignal.timeout(o.timeoutSeconds * 1000) }).catch(() => {})
  }
  const perNodeMs: Array<number | null> = agents.map(() => null)
  const deadline = Date.now() + o.timeoutSeconds * 1000
  while (perNodeMs.includes(null) && Date.now() < deadline) {
    for (let i = 0; i < NODES; i++) {
      if (perNodeMs[i] !== null) continue
      const size = (await stat(files[i]).catch(() => null))?.size
      if (size === want.bytes && sha256(await readFile(files[i])) === want.sha256) perNodeMs[i] = round(performance.now() - t0, 0)
    }
    await sleep(POLL_MS)
  }
  const converged = !perNodeMs.includes(null)
  const cpuSeconds = await Promise.all(agents.map(async (a, i) => round(await procCpuSeconds(a.proc?.pid) - cpu0[i], 2)))
  // Trailing traffic (a slave fetching the version that holds its own upload) counts too.
  await sleep(2000)
  const rss = await Promise.all(agents.map(async a => await procRss(a.proc?.pid)))
  const sentBytes = await Promise.all(agents.map(async a => await metric(a, 'spamsync_sent_bytes_total')))
  const receivedBytes = await Promise.all(agents.map(async a => await metric(a, 'spamsync_received_bytes_total')))
  const terms = await Promise.all(agents.map(async a => await metric(a, 'spamsync_term')))
  const slave = agents.find((_, i) => roles[i] === 'slave')
  let restart: ProcessE2eResult['restart'] = null
  if (converged && slave !== undefined) {
    await slave.stop()
    await slave.start([agents[roles.indexOf('master')].multiaddr])
    await sleep(IDLE_AFTER_RESTART_MS)
    const r = await procRss(slave.proc?.pid)
    restart = { peakMB: r.peakMB, idleMB: r.rssMB }
  }
  if (o.agentOut !== '') {
    // A clean stop, so each process writes its profile; then its log.
    await Promise.all(agents.map(async a => { await a.stop() }))
    for (const [i, a] of agents.entries()) await writeFile(join(o.agentOut, `agent${i}-${roles[i]}.log`), a.output)
  }
  const slaves = agents.map((_, i) => i).filter(i => roles[i] === 'slave')
  const allTokens = ownTokens.reduce((x, y) => x + y, 0)
  return {
    converged,
    ms: converged ? Math.max(...(perNodeMs as number[])) : NaN,
    perNodeMs,
    roles,
    rssPeakMB: rss.map(r => r.peakMB),
    rssConvergedMB: rss.map(r => r.rssMB),
    cpuSeconds,
    terms,
    sentBytes,
    receivedBytes,
    slaveUploadBytesPerToken: slaves.map(i => round(sentBytes[i] / ownTokens[i], 2)),
    slaveDownloadBytesPerNeededToken: slaves.map(i => round(receivedBytes[i] / (allTokens - ownTokens[i]), 2)),
    restart
  }
}
