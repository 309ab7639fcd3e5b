/** The Bayes benchmark's `e2e` phase: three in-process agents sync their generated DBs until every bayes.txt is the merged one. */
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'
import { Agent } from '../../src/agent.js'
import { mergeContributions, type BayesDb } from '../../src/crdt/bayes-counters.js'
import { formatSaBackup } from '../../src/settings/sa-backup.js'
import { type Cluster, type ExpectedFile, bytesOf, expectedOf, oneMaster, roleOf, settled, startCluster, waitConverged } from './agents.js'
import { asContributions, generateDbs } from './data.js'
import { type LoopDelay, RssSampler, gc, log, loopDelay, mb, round, sleep, waitUntil } from './measure.js'
import { type BayesBenchOptions, NODES } from './options.js'
import { type CpuProfile, type ProfileSummary, summarizeProfile } from './profile.js'

export interface E2eResult {
  mode: 'after-start' | 'prefill'
  tokensPerNode: number
  expected: ExpectedFile
  agentStartMs: number[]
  /** First Agent.start until one master (prefill: includes each agent's scan of its 1M-token file). */
  electionMs: number
  roles: string[]
  /** From the concurrent bayesChanged()+syncUpload() calls until every file is the expected DB. */
  e2eMs: number
  /** Prefill mode: from the moment one master was seen (the automatic sync starts then). */
  e2eFromMasterMs: number | null
  /** Until every call returned (the last slave's upload acknowledged). */
  callsMs: number
  perNodeMs: Array<number | null>
  converged: boolean
  perNodeBytes: Array<{ node: number, role: string, sent: number, received: number, lastUpload: unknown, lastDownload: unknown }>
  slaveUploadBytesPerToken: number[]
  /** Slave bytes received / token records of the other two nodes' contributions (what it lacked). */
  slaveDownloadBytesPerNeededToken: number[]
  rss: { workerPeakMB: number, mainThreadPeakMB: number, baselineBeforeAgentsMB: number, afterGcConvergedMB: number }
  /** V8 heap: limit, used after a full GC before the agents started and once converged (all agents idle). */
  heap: { limitMB: number, usedAfterGcBeforeAgentsMB: number, usedAfterGcConvergedMB: number, retainedPerAgentMB: number }
  /** Longest main-thread stalls during the sync (heartbeats are 1 s apart; 3 missed start an election). */
  eventLoopDelay: LoopDelay
  /** Election terms seen at the end (more than one term or a master change means an election happened mid-sync). */
  terms: number[]
  errors: string[]
  timeline: string[]
  profile: ProfileSummary | null
}

// eslint-disable-next-line max-lines-per-function -- one measured sequence: the timer, the CPU profile and the RSS window must span exactly these steps
export async function e2ePhase (o: Required<BayesBenchOptions>, mode: 'after-start' | 'prefill', sampler: RssSampler, track: (a: Agent) => void, root: string):
Promise<{ result: E2eResult, cluster: Cluster }> {
  const t = performance.now()
  let dbs: BayesDb[] | null = generateDbs(o.tokens, o.overlap, o.messages, o.seed)
  const genMs = performance.now() - t
  let merged: BayesDb | null = mergeContributions(asContributions(dbs))
  const expected = expectedOf(merged, formatSaBackup(merged))
  // eslint-disable-next-line no-useless-assignment -- drops the only reference so the gc() below can free it before the RSS baseline
  merged = null
  // Staged on disk and moved into place by a rename, so the bench holds none of it while the agents run.
  const stage = join(root, 'stage')
  await mkdir(stage)
  const staged: string[] = []
  for (const [i, db] of dbs.entries()) {
    staged.push(join(stage, `bayes-${i}.txt`))
    await writeFile(staged[i], formatSaBackup(db))
  }
  // eslint-disable-next-line no-useless-assignment -- drops the only reference so the gc() below can free it before the RSS baseline
  dbs = null
  log(`e2e[${mode}]: generated ${NODES} x ${o.tokens} tokens in ${Math.round(genMs)} ms; merged: ${expected.stats}, ${expected.bytes} bytes`)
  gc()
  const baseline = mb(process.memoryUsage.rss())
  const heapBaseline = mb(process.memoryUsage().heapUsed)
  sampler.resetWindow()

  const tStart = performance.now()
  const { cluster, startMs } = await startCluster(root, mode === 'prefill' ? staged : null, track)
  const { agents, files } = cluster
  const before = agents.map(bytesOf)
  let tMaster: number
  let tSync: number
  let calls: Promise<void>
  let callsDone = 0
  let session: Session | null = null
  const loop = monitorEventLoopDelay({ resolution: 10 })
  const startProfile = async (): Promise<void> => {
    if (!o.profile) return
    session = new Session()
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 1000 })
    await session.post('Profiler.start')
  }
  const runCalls = (): Promise<void> => Promise.all(agents.map(async a => { await a.engine.bayesChanged(); await a.engine.syncUpload() }))
    .then(() => { callsDone = performance.now() })

  if (mode === 'prefill') {
    await startProfile()
    await waitUntil('one master', () => oneMaster(agents), 60_000, 20)
    tMaster = performance.now()
    log(`e2e[${mode}]: master after ${Math.round(tMaster - tStart)} ms; calling bayesChanged()+syncUpload()`)
    tSync = performance.now()
    loop.enable()
    calls = runCalls()
  } else {
    await waitUntil('one master and settled slaves', () => settled(agents), 60_000, 20)
    tMaster = performance.now()
    await sleep(300)
    log(`e2e[${mode}]: settled after ${Math.round(tMaster - tStart)} ms; writing bayes.txt files`)
    for (let i = 0; i < NODES; i++) await rename(staged[i], files[i])
    for (let i = 0; i < NODES; i++) before[i] = bytesOf(agents[i])
    await startProfile()
    tSync = performance.now()
    loop.enable()
    calls = runCalls()
  }
  const callError: string[] = []
  calls.catch((err) => { callError.push(String(err?.stack ?? err)) })
  const conv = await waitConverged(agents, files, expected, tSync, o.timeoutSeconds * 1000)
  loop.disable()
  log(`e2e[${mode}]: ${conv.converged ? 'converged' : 'NOT converged'} after ${Math.round(conv.ms)} ms`)
  let profile: ProfileSummary | null = null
  if (session !== null) {
    const s = session as Session
    const { profile: p } = await s.post('Profiler.stop') as unknown as { profile: CpuProfile }
    s.disconnect()
    if (o.profileOut !== '') await writeFile(o.profileOut, JSON.stringify(p))
    profile = summarizeProfile(p)
  }
  await Promise.race([calls.catch(() => {}), sleep(30_000)])
  await sleep(1000)
  const after = agents.map(bytesOf)
  const rssWindow = sampler.window()
  gc()
  const heapConverged = mb(process.memoryUsage().heapUsed)
  const rssConverged = mb(process.memoryUsage.rss())
  const roles = agents.map(roleOf)
  const perNodeBytes = agents.map((a, i) => ({
    node: i, role: roles[i], sent: after[i].sent - before[i].sent, received: after[i].received - before[i].received,
    lastUpload: a.engine.lastUpload, lastDownload: a.engine.lastDownload
  }))
  const slaves = perNodeBytes.filter(n => n.role === 'slave')
  const result: E2eResult = {
    mode,
    tokensPerNode: o.tokens,
    expected,
    agentStartMs: startMs,
    electionMs: round(tMaster - tStart, 0),
    roles,
    e2eMs: round(conv.ms, 0),
    e2eFromMasterMs: mode === 'prefill' ? round(conv.ms + tSync - tMaster, 0) : null,
    callsMs: callsDone === 0 ? NaN : round(callsDone - tSync, 0),
    perNodeMs: conv.perNodeMs.map(x => x === null ? null : round(x, 0)),
    converged: conv.converged,
    perNodeBytes,
    slaveUploadBytesPerToken: slaves.map(s => round(s.sent / o.tokens, 2)),
    slaveDownloadBytesPerNeededToken: slaves.map(s => round(s.received / (2 * o.tokens), 2)),
    rss: { ...rssWindow, baselineBeforeAgentsMB: baseline, afterGcConvergedMB: rssConverged },
    eventLoopDelay: loopDelay(loop),
    terms: agents.map(a => a.election.term),
    heap: {
      limitMB: mb(getHeapStatistics().heap_size_limit),
      usedAfterGcBeforeAgentsMB: heapBaseline,
      usedAfterGcConvergedMB: heapConverged,
      retainedPerAgentMB: round((heapConverged - heapBaseline) / NODES)
    },
    errors: [...callError, ...agents.flatMap((a, i) => a.engine.errors.map(e => `n${i} ${e.what}: ${e.message}`))],
    timeline: conv.converged ? conv.timeline : [...conv.timeline, '-- last state --', ...conv.last.map((s, i) => `n${i}: ${s}`)],
    profile
  }
  return { result, cluster }
}
