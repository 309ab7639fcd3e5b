/** The Bayes benchmark's `delta` phase: one slave learns 10 messages; time and bytes until the others hold them. */
import { readFile, writeFile } from 'node:fs/promises'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { formatSaBackup, parseSaBackup } from '../../src/settings/sa-backup.js'
import { type Cluster, bytesOf, clusterState, expectedOf, roleOf, settled, waitConverged } from './agents.js'
import { learnMessages, prng } from './data.js'
import { type LoopDelay, log, loopDelay, round, sleep, waitUntil } from './measure.js'
import { type BayesBenchOptions, NODES } from './options.js'

export interface DeltaRep {
  originNode: number
  ms: number
  callsMs: number
  converged: boolean
  tokenRecords: number
  newTokens: number
  perNode: Array<{ node: number, role: string, sent: number, received: number }>
  totalSentPerReceiver: number
  masterSentPerReceiver: number
  uploadZipBytes: number | null
  downloadZipBytes: Array<number | null>
  eventLoopDelay: LoopDelay
  timeline: string[]
}
export async function deltaPhase (o: Required<BayesBenchOptions>, cluster: Cluster, problems: string[]): Promise<{ reps: DeltaRep[], settleMs: number[] }> {
  const { agents, files } = cluster
  const reps: DeltaRep[] = []
  const settleMs: number[] = []
  const rng = prng(o.seed + 77)
  for (let rep = 0; rep < o.deltaReps; rep++) {
    // After a large sync the cluster may still be retrying uploads or fetching: wait until it is quiet.
    const ts = performance.now()
    try {
      await waitUntil('settled cluster', () => settled(agents), 300_000)
    } catch {
      problems.push(`delta rep ${rep}: cluster not settled after 300 s: ${clusterState(agents)}`)
      break
    }
    settleMs.push(round(performance.now() - ts, 0))
    await sleep(500)
    const origin = agents.findIndex(a => a.election.role === 'slave')
    const masterIdx = agents.findIndex(a => a.election.role === 'master')
    const { db } = parseSaBackup(await readFile(files[origin]), 'bayes.txt')
    const before = db.tokens.keys.length
    const learned = learnMessages(db, 10, 200, rng, Math.floor(Date.now() / 1000))
    const text = formatSaBackup(db)
    const want = expectedOf(db, text)
    await writeFile(files[origin], text)
    log(`delta rep ${rep}: n${origin} learned 10 messages: ${learned.tokensTouched} token records (${learned.newTokens} new; ${before} -> ${db.tokens.keys.length} tokens)`)
    const b0 = agents.map(bytesOf)
    const loop = monitorEventLoopDelay({ resolution: 10 })
    loop.enable()
    const t0 = performance.now()
    let callsDone = 0
    const calls = (async () => { await agents[origin].engine.bayesChanged(); await agents[origin].engine.syncUpload(); callsDone = performance.now() })()
    calls.catch(() => {})
    const conv = await waitConverged(agents, files, want, t0, 60_000, new Set([origin]), text)
    loop.disable()
    await calls.catch(() => {})
    // Trailing traffic: the origin fetches the version that holds its own change.
    await waitUntil('settled cluster', () => settled(agents), 10_000).catch(() => {})
    await sleep(1500)
    const b1 = agents.map(bytesOf)
    const perNode = agents.map((a, i) => ({ node: i, role: roleOf(a), sent: b1[i].sent - b0[i].sent, received: b1[i].received - b0[i].received }))
    const totalSent = perNode.reduce((s, n) => s + n.sent, 0)
    reps.push({
      originNode: origin,
      ms: round(conv.ms, 0),
      callsMs: round(callsDone - t0, 0),
      converged: conv.converged,
      tokenRecords: learned.tokensTouched,
      newTokens: learned.newTokens,
      perNode,
      totalSentPerReceiver: round(totalSent / (NODES - 1), 0),
      masterSentPerReceiver: round(perNode[masterIdx].sent / (NODES - 1), 0),
      uploadZipBytes: agents[origin].engine.lastUpload?.bytes ?? null,
      downloadZipBytes: agents.map(a => a.engine.lastDownload?.bytes ?? null),
      eventLoopDelay: loopDelay(loop),
      timeline: conv.converged ? conv.timeline : [...conv.timeline, '-- last state --', ...conv.last]
    })
    log(`delta rep ${rep}: ${conv.converged ? 'converged' : 'NOT converged'} in ${Math.round(conv.ms)} ms, sent ${perNode.map(n => n.sent).join('/')} B`)
  }
  return { reps, settleMs }
}
