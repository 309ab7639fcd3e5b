/** The cluster benchmark's propagation phase: a line appended on one node, timed until it is in every other node's file. */
import { loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { agreed, appendLine, blacklistPath, clusterCpu, hasLine, loadMeter, readText, round, roundSummary, sleep, startCluster, statuses, summarize, timeUntilLine, timeUntilVersionChange, vkey, waitStable, withCluster } from './harness.js'
import type { PropagationResult } from './types.js'

// eslint-disable-next-line max-lines-per-function -- one measured sequence on one cluster: start, then every trial timed on every node
export async function propagation (opts: { propagationNodes: number, propagationTrials: number, trialPauseMs: number }, random: () => number, log: (s: string) => void): Promise<PropagationResult> {
  // eslint-disable-next-line max-lines-per-function -- the body of the sequence above, run inside withCluster so the cluster is always removed
  return await withCluster(async (cluster) => {
    const n = opts.propagationNodes
    const { agents, ms: startMs } = await startCluster(cluster, n)
    log(`propagation: ${n} agents started in ${Math.round(startMs)} ms`)
    const stable = await waitStable(agents, `one master of ${n} agents`, { timeoutMs: 90_000 })
    log(`propagation: stable master node${stable.masterIndex + 1} after ${Math.round(stable.ms)} ms more`)
    const before = agreed(await statuses(agents))

    const timeoutMs = 15_000
    const all: Array<number | null> = []
    const fromMaster: Array<number | null> = []
    const fromSlave: Array<number | null> = []
    const trialDetail: PropagationResult['trialDetail'] = []
    const toMaster: Array<number | null> = []
    const meter = loadMeter(agents)
    let masterChanges = 0
    let lastMasterKey = before?.key.split('/').slice(0, 2).join('/') ?? ''
    for (let trial = 1; trial <= opts.propagationTrials; trial++) {
      const origin = Math.floor(random() * n)
      const state = await statuses(agents)
      const a = agreed(state)
      const masterKey = a === null ? 'none' : a.key.split('/').slice(0, 2).join('/')
      if (masterKey !== lastMasterKey) masterChanges++
      lastMasterKey = masterKey
      const originRole = state[origin]?.role ?? 'unknown'
      const line = `bench-${trial}.example.com`
      const receivers = agents.filter((_, i) => i !== origin)
      const master = a === null ? null : agents[a.masterIndex]
      const masterVersion = a === null ? '' : vkey(state[a.masterIndex].version)
      const cpu0 = clusterCpu(agents)
      const t0 = performance.now()
      await appendLine(agents[origin], line)
      let done = false
      const [samples, toMasterMs] = await Promise.all([
        Promise.all(receivers.map(async r => await timeUntilLine(r, line, t0, 10, timeoutMs))).finally(() => { done = true }),
        master === null ? null : timeUntilVersionChange(master, masterVersion, t0, 25, () => done)
      ])
      const cpu1 = clusterCpu(agents)
      toMaster.push(toMasterMs)
      all.push(...samples)
      ;(originRole === 'master' ? fromMaster : fromSlave).push(...samples)
      const got = samples.filter((x): x is number => x !== null)
      const maxMs = samples.includes(null) ? null : Math.max(...got)
      trialDetail.push({
        trial,
        origin: origin + 1,
        originRole,
        maxMs: maxMs === null ? null : round(maxMs),
        toMasterMs: toMasterMs === null ? null : round(toMasterMs),
        agentCpuMs: cpu0 === null || cpu1 === null ? null : Math.round((cpu1 - cpu0) * 1000),
        samplesMs: samples.map(x => x === null ? null : round(x)) })
      log(`propagation: trial ${trial} from node${origin + 1} (${originRole}): max ${maxMs === null ? 'TIMEOUT' : Math.round(maxMs)} ms, at master after ${toMasterMs === null ? '?' : Math.round(toMasterMs)} ms, load ${loadavg()[0].toFixed(1)}`)
      await sleep(opts.trialPauseMs)
    }

    const load = meter()
    // Every bench line must be on every node (the origin's own edit included).
    const missingAtEnd: string[] = []
    for (let trial = 1; trial <= opts.propagationTrials; trial++) {
      const line = `bench-${trial}.example.com`
      for (const [i, a] of agents.entries()) if (!hasLine(await readText(blacklistPath(a)), line)) missingAtEnd.push(`${line}@node${i + 1}`)
    }
    const maxes = trialDetail.map(t => t.maxMs)
    return {
      nodes: n,
      trials: opts.propagationTrials,
      startMs: round(startMs),
      stableMs: round(stable.ms),
      samples: roundSummary(summarize(all)),
      perTrialMax: roundSummary(summarize(maxes)),
      fromMaster: roundSummary(summarize(fromMaster)),
      fromSlave: roundSummary(summarize(fromSlave)),
      toMaster: roundSummary(summarize(toMaster)),
      load,
      timeouts: all.filter(x => x === null).length,
      missingAtEnd,
      masterChanges,
      trialDetail
    }
  })
}
