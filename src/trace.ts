/**
 * Timeline points for benchmarks (bench/initial.ts --trace): with SPAMSYNC_TRACE=1 in the
 * environment each point writes one line to stderr, `TRACE <epoch ms> <process CPU ms> <point>`,
 * so a run's steps on every node can be put on one time axis, waits told from CPU. Off (the
 * default) a point costs one branch.
 */
import { performance } from 'node:perf_hooks'

const ON = process.env.SPAMSYNC_TRACE === '1'

/** Writes a timeline point when tracing is on. */
export function trace (point: string, detail?: string | number): void {
  if (!ON) return
  const cpu = process.cpuUsage()
  process.stderr.write(`TRACE ${(performance.timeOrigin + performance.now()).toFixed(1)} ${((cpu.user + cpu.system) / 1000).toFixed(1)} ${point}${detail === undefined ? '' : ' ' + String(detail)}\n`)
}
