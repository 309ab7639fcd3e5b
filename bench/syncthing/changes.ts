/** The measure both tools go through: one-line changes, timed until every copy of the file holds them, with the bytes moved. */
import { performance } from 'node:perf_hooks'
import { appendLineAt, round, roundSummary, sleep, summarize, timeUntilLineAt } from '../cluster/harness.js'
import { tcpDelta, tcpSnapshot, type TcpSnapshot } from '../tcp-bytes.js'
import { NODES, POLL_MS, type ToolResult } from './types.js'

/** How one tool is driven: the files, the counters, the processes. */
interface Driver {
  files: string[]
  /** Sum over all nodes of the tool's own sent-bytes counter. */
  appBytesSent: () => Promise<number>
  pids: () => number[]
  httpPorts: number[]
  /** Resolves when no counter moved for a second. */
  settle: () => Promise<void>
}

export async function measureChanges (d: Driver, tag: string, reps: number, log: (s: string) => void): Promise<Omit<ToolResult, 'tool' | 'version' | 'nodes' | 'initialSyncMs' | 'perFileMs' | 'appBytesMethod'>> {
  const samples: Array<number | null> = []
  const perRep: Array<number | null> = []
  const app: number[] = []
  const tcp: number[] = []
  let closed = 0
  let haveTcp = true
  for (let rep = 1; rep <= reps; rep++) {
    const line = `${tag}-bench-${rep}.example.com`
    const a0 = await d.appBytesSent()
    const s0: TcpSnapshot | null = tcpSnapshot(d.pids(), d.httpPorts)
    const t0 = performance.now()
    await appendLineAt(d.files[0], line)
    const times = await Promise.all(d.files.slice(1).map(async f => await timeUntilLineAt(f, line, t0, POLL_MS, 60_000)))
    samples.push(...times)
    perRep.push(times.includes(null) ? null : Math.max(...(times as number[])))
    await d.settle()
    app.push(round((await d.appBytesSent() - a0) / (NODES - 1)))
    const s1 = tcpSnapshot(d.pids(), d.httpPorts)
    if (s0 === null || s1 === null) {
      haveTcp = false
    } else {
      const delta = tcpDelta(s0, s1)
      tcp.push(round(delta.bytes / (NODES - 1)))
      closed += delta.closed
    }
    log(`${tag}: change ${rep}: ${times.map(t => t === null ? 'TIMEOUT' : Math.round(t)).join(' / ')} ms, ${app[app.length - 1]} B (own counters) / ${tcp[tcp.length - 1] ?? '?'} B (TCP) per receiver`)
  }
  return {
    propagation: roundSummary(summarize(samples)),
    perRepMax: roundSummary(summarize(perRep)),
    samplesMs: samples.map(x => x === null ? null : round(x)),
    timeouts: samples.filter(x => x === null).length,
    appBytesPerReceiver: summarize(app),
    appBytesSamples: app,
    tcpBytesPerReceiver: haveTcp ? summarize(tcp) : null,
    tcpBytesSamples: tcp,
    tcpSocketsClosed: closed
  }
}

/** Polls `read` every second until it returns the same value twice in a row (at most 30 s). */
export async function settleOn (read: () => Promise<string>): Promise<void> {
  let last = ''
  for (let i = 0; i < 30; i++) {
    const now = await read()
    if (now === last) return
    last = now
    await sleep(1000)
  }
}
