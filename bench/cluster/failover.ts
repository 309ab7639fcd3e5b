/** The cluster benchmark's failover phase: the master killed with SIGKILL, timed until the survivors agree and a change reaches both. */
import { performance } from 'node:perf_hooks'
import type { AgentProcess } from '../../test/helpers/agents.js'
import { startPatiently } from '../../test/helpers/join-at-once.js'
import { appendLine, blacklistPath, describe, hasLine, loadMeter, readText, round, roundSummary, sleep, startCluster, statuses, summarize, timeUntilLine, waitStable, withCluster } from './harness.js'
import type { FailoverResult } from './types.js'

// eslint-disable-next-line max-lines-per-function -- one measured sequence on one cluster: every trial kills the master and times the recovery
export async function failover (trials: number, log: (s: string) => void): Promise<FailoverResult> {
  // eslint-disable-next-line max-lines-per-function -- the body of the sequence above, run inside withCluster so the cluster is always removed
  return await withCluster(async (cluster) => {
    const { agents, ms: startMs } = await startCluster(cluster, 3)
    let stable = await waitStable(agents, 'one master of 3 agents')
    // Killed agents come back as new processes: their CPU time is not comparable, only the load is.
    const meter = loadMeter(null)
    const trialDetail: FailoverResult['trialDetail'] = []
    for (let trial = 1; trial <= trials; trial++) {
      const victim = stable.master
      const survivors = agents.filter(a => a !== victim)
      const termBefore = (await victim.status()).term as number
      const t0 = performance.now()
      await victim.kill9()

      // A survivor is master and the other follows it.
      let master: AgentProcess | undefined
      let slave: AgentProcess | undefined
      let termAfter = 0
      for (;;) {
        const [s0, s1] = await statuses(survivors)
        if (s0 !== null && s1 !== null) {
          if (s0.role === 'master' && s1.role === 'slave' && s1.masterId === s0.nodeId) { master = survivors[0]; slave = survivors[1]; termAfter = s0.term }
          if (s1.role === 'master' && s0.role === 'slave' && s0.masterId === s1.nodeId) { master = survivors[1]; slave = survivors[0]; termAfter = s1.term }
        }
        if (master !== undefined) break
        if (performance.now() - t0 > 30_000) throw new Error(`failover trial ${trial}: no new master 30 s after the kill:\n${await describe(survivors)}`)
        await sleep(50)
      }
      const electedMs = performance.now() - t0
      if (slave === undefined) throw new Error('unreachable')

      // A change on the surviving slave right after the election.
      const line = `failover-${trial}.example.com`
      const tw = performance.now()
      await appendLine(slave, line)
      const [onMaster] = await Promise.all([timeUntilLine(master, line, t0, 10, 30_000), timeUntilLine(slave, line, t0, 10, 30_000)])
      if (onMaster === null) throw new Error(`failover trial ${trial}: the change on the surviving slave did not reach the new master in 30 s:\n${await describe(survivors)}`)
      const changeOnSurvivorsMs = onMaster
      const changeAfterWriteMs = performance.now() - tw

      // The killed node comes back and catches up.
      const tr = performance.now()
      await startPatiently(victim, [survivors[0].multiaddr])
      const tw2 = performance.now()
      stable = await waitStable(agents, `one master after restarting the killed node (trial ${trial})`)
      const rejoinMs = (tw2 - tr) + stable.ms
      // Stable means equal applied versions, so the restarted node must have the change.
      const restartedHasChange = hasLine(await readText(blacklistPath(victim)), line)
      trialDetail.push({
        trial,
        killed: victim.nodeId.slice(-8),
        newMaster: master.nodeId.slice(-8),
        termBefore,
        termAfter,
        electedMs: round(electedMs),
        changeOnSurvivorsMs: round(changeOnSurvivorsMs),
        changeAfterWriteMs: round(changeAfterWriteMs),
        rejoinMs: round(rejoinMs),
        restartedHasChange
      })
      log(`failover: trial ${trial}: elected after ${Math.round(electedMs)} ms, change on both survivors ${Math.round(changeOnSurvivorsMs)} ms after the kill`)
    }
    return {
      nodes: 3,
      trials,
      startMs: round(startMs),
      elected: roundSummary(summarize(trialDetail.map(t => t.electedMs))),
      changeOnSurvivors: roundSummary(summarize(trialDetail.map(t => t.changeOnSurvivorsMs))),
      changeAfterWrite: roundSummary(summarize(trialDetail.map(t => t.changeAfterWriteMs))),
      rejoin: roundSummary(summarize(trialDetail.map(t => t.rejoinMs))),
      load: meter(),
      trialDetail
    }
  })
}
