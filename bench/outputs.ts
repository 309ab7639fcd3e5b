/**
 * Benchmark of the outputs on a one-line change of a large list: the 121,570 domains of the
 * `disposable-email-domains` package as blacklist.txt, five outputs (postfix-access,
 * postfix-cidr, spamassassin, rspamd-from, rspamd-ip). Measured per repetition, on a node whose
 * store holds the list:
 * - `changedPass`: after a one-line edit was scanned in, one runner pass (read the keys changed
 *   since the last pass, resolve them over the lists, update their lines in each output, write
 *   the files whose lines changed): the time the outputs add to the change (target: median at
 *   most 300 ms); the start-up rendering of everything is not measured;
 * - `unchangedPass`: a pass with nothing changed: it must write no file and run no command.
 * Commands are counted, not run (their cost is the operator's program's). Prints one JSON
 * object, then a table. Run: `npx tsc -p . && npx node dist/bench/outputs.js`.
 */
import { readFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { openLocalState } from '../src/local-state.js'
import { OutputRunner } from '../src/outputs/runner.js'
import type { OutputSpec } from '../src/outputs/output-config.js'
import type { CommandResult } from '../src/ops/command-runner.js'

const REPS = 7
const TARGET_MS = 300

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]
}

function fail (message: string): never {
  throw new Error(`bench/outputs: ${message}`)
}

/** Result of main(). */
export interface OutputsBenchResult {
  bench: 'outputs'
  domains: number
  reps: number
  loadAvg: { start: number, end: number }
  changedPass: { medianMs: number, samplesMs: number[], cpuMedianMs: number, targetMs: number, ok: boolean, writesPerPass: number, commandsPerPass: number }
  unchangedPass: { medianMs: number, samplesMs: number[], writes: number, commands: number }
  bytesWritten: Record<string, number>
}

export async function main (): Promise<OutputsBenchResult> {
  const root = await mkdtemp(join(tmpdir(), 'spamsync-bench-outputs-'))
  try {
    return await run(root)
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

// eslint-disable-next-line max-lines-per-function -- one measured sequence: every output timed on the same scanned node
async function run (root: string): Promise<OutputsBenchResult> {
  const path = createRequire(import.meta.url).resolve('disposable-email-domains/index.json')
  const domains = JSON.parse(await readFile(path, 'utf8')) as string[]
  const dataDir = join(root, 'data')
  const settingsDir = join(root, 'settings')
  await mkdir(settingsDir, { recursive: true })
  await writeFile(join(settingsDir, 'blacklist.txt'), domains.join('\n') + '\n')
  const state = await openLocalState({ dataDir, settingsDir, maxSkewMs: 300_000 })
  const loadStart = loadavg()[0]
  try {
    await state.folder.scan()
    const out = join(root, 'out')
    const all = ['whitelist', 'autowhitelist', 'blacklist'] as const
    const outputs: OutputSpec[] = [
      { format: 'postfix-access', datasets: [...all], path: join(out, 'sender_access'), command: 'postmap' },
      { format: 'postfix-cidr', datasets: [...all], path: join(out, 'client_access.cidr'), command: 'reload' },
      { format: 'spamassassin', datasets: [...all], path: join(out, 'spamsync.cf'), command: 'reload' },
      { format: 'rspamd-from', datasets: ['blacklist'], path: join(out, 'from_block.map'), command: '' },
      { format: 'rspamd-ip', datasets: ['blacklist'], path: join(out, 'ip_block.map'), command: '' }
    ]
    let writes = 0
    let commands = 0
    const runner = new OutputRunner({
      outputs,
      lists: state.replica,
      timeoutMs: 60_000,
      report: (what, err) => { fail(`${what}: ${String(err)}`) },
      onWritten: () => { writes++ },
      run: async (command): Promise<CommandResult> => {
        commands++
        return { command, exitCode: 0, signal: null, durationMs: 0, stderrTail: '', timeoutMs: 60_000, timedOut: false, aborted: false }
      }
    })
    const cpuMs: number[] = []
    const pass = async (): Promise<number> => {
      const t = performance.now()
      const c = process.cpuUsage()
      runner.changed()
      await runner.idle()
      const used = process.cpuUsage(c)
      cpuMs.push((used.user + used.system) / 1000)
      return performance.now() - t
    }
    await pass() // the start-up rendering
    cpuMs.length = 0
    const changed: number[] = []
    const unchanged: number[] = []
    let changedWrites = 0
    let changedCommands = 0
    let unchangedWrites = 0
    let unchangedCommands = 0
    for (let rep = 0; rep < REPS; rep++) {
      // One line: a new domain appended to the middle of the file's order does not matter; the
      // scan is what a node does anyway, outside the measure.
      const text = await readFile(join(settingsDir, 'blacklist.txt'), 'utf8')
      await writeFile(join(settingsDir, 'blacklist.txt'), text + `bench-${rep}.spamsync.example\n`)
      const { changed: c } = await state.folder.scan()
      if ((c.get('blacklist')?.length ?? 0) !== 1) fail('the one-line edit did not scan in as one change')
      const w0 = writes
      const c0 = commands
      changed.push(await pass())
      changedWrites += writes - w0
      changedCommands += commands - c0
      const w1 = writes
      const c1 = commands
      unchanged.push(await pass())
      unchangedWrites += writes - w1
      unchangedCommands += commands - c1
    }
    const bytesWritten: Record<string, number> = {}
    for (const o of outputs) bytesWritten[o.format + (o.path.endsWith('_block.map') ? ' (blacklist)' : '')] = (await readFile(o.path)).byteLength
    const m = median(changed)
    const result: OutputsBenchResult = {
      bench: 'outputs',
      domains: domains.length,
      reps: REPS,
      loadAvg: { start: loadStart, end: loadavg()[0] },
      // Passes alternate changed, unchanged: the even samples of cpuMs are the changed ones.
      changedPass: { medianMs: Math.round(m), samplesMs: changed.map(Math.round), cpuMedianMs: Math.round(median(cpuMs.filter((_, i) => i % 2 === 0))), targetMs: TARGET_MS, ok: m <= TARGET_MS, writesPerPass: changedWrites / REPS, commandsPerPass: changedCommands / REPS },
      unchangedPass: { medianMs: Math.round(median(unchanged)), samplesMs: unchanged.map(Math.round), writes: unchangedWrites, commands: unchangedCommands },
      bytesWritten
    }
    if (unchangedWrites !== 0 || unchangedCommands !== 0) fail(`an unchanged pass wrote ${unchangedWrites} files and ran ${unchangedCommands} commands`)
    console.log(JSON.stringify(result))
    console.log(`outputs on a one-line change of ${domains.length} lines: median ${result.changedPass.medianMs} ms, CPU ${result.changedPass.cpuMedianMs} ms (target ${TARGET_MS}, ${result.changedPass.ok ? 'met' : 'MISSED'}), samples ${result.changedPass.samplesMs.join(' ')}; ` +
      `${result.changedPass.writesPerPass} files written and ${result.changedPass.commandsPerPass} commands per pass; unchanged pass median ${result.unchangedPass.medianMs} ms, ${unchangedWrites} writes, ${unchangedCommands} commands`)
    return result
  } finally {
    await state.close()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => { console.error(err); process.exitCode = 1 })
}
