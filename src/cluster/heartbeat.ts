/**
 * The agent's heartbeat: every tick the election (timeouts, handover, its beacon), the engine
 * (retries), every REDIAL_INTERVAL_MS the redial, and the process's CPU checks (src/heartbeats.ts),
 * each guarded apart, on the pace of election/heartbeat-pace.ts: a slave ticks on its master's
 * beat, so an idle slave wakes once a heartbeat, not three times in two (its tick, the beat and
 * the CPU checks each had a phase of their own).
 */
import { HeartbeatPace } from '../election/heartbeat-pace.js'
import { guarded, type Reporter } from '../guarded.js'
import { heartbeatTicked } from '../heartbeats.js'
import { REDIAL_INTERVAL_MS } from './peer-directory.js'

/** What a tick drives. */
export interface HeartbeatParts {
  intervalMs: number
  election: { tick: () => void }
  engine: { tick: () => void }
  peers: { redial: () => void }
  report: Reporter
}

/** The work of one tick: each part guarded apart, so one that throws does not stop the others. */
export function heartbeatTick (parts: HeartbeatParts): () => void {
  const { election, engine, peers, report, intervalMs } = parts
  // A timer of its own for the redial woke an idle agent once more every 2 s.
  const redialEvery = Math.max(1, Math.round(REDIAL_INTERVAL_MS / intervalMs))
  let beats = 0
  const ticks = [
    guarded('election tick', report, () => { election.tick() }),
    guarded('engine tick', report, () => { engine.tick() }),
    guarded('redial', report, () => { if (++beats % redialEvery === 0) peers.redial() }),
    guarded('heartbeat checks', report, heartbeatTicked)
  ]
  return () => { for (const tick of ticks) tick() }
}

/** The heartbeat of an agent: `start` it once the agent runs, `beat` when the master's beat is taken. */
export function agentHeartbeat (parts: HeartbeatParts): HeartbeatPace {
  return new HeartbeatPace({
    intervalMs: parts.intervalMs,
    now: () => performance.now(),
    after: (ms, fn) => {
      const timer = setTimeout(fn, ms)
      return { cancel: () => { clearTimeout(timer) }, restart: () => { timer.refresh() } }
    },
    tick: heartbeatTick(parts)
  })
}
