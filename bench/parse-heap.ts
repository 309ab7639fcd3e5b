/**
 * What a parsed list file holds and costs (issue 17: an idle agent holds its parsed lists): the
 * V8 heap a parse keeps (live bytes after a full GC, with and without the parse held; the text
 * itself is made before and counted in neither), the typed arrays' buffers it keeps (outside the
 * heap), and the CPU of a full parse, for the 121,570-line
 * blacklist and 1,000,000 generated lines (bench/lists.ts). Each run is a child process of its
 * own started with --expose-gc; medians are printed.
 * Run: `npx tsc -p . && npx node dist/bench/parse-heap.js [--lists=121k,1M] [--runs=5]`.
 */
import { execFileSync } from 'node:child_process'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseListFile } from '../src/settings/list-file.js'
import { benchList, type ListName } from './lists.js'

/** One run's figures. */
interface Sample { heldMb: number, buffersMb: number, parseMs: number }

const gc = (): void => (globalThis as unknown as { gc: () => void }).gc()

/** One run in this process: the parse's kept heap and the CPU of a full parse (best of three, after a warm-up parse). */
async function runOnce (name: ListName): Promise<Sample> {
  const text = (await benchList(name)).domains.join('\n') + '\n'
  let parseMs = Infinity
  for (let i = 0; i < 4; i++) {
    const cpu = process.cpuUsage()
    parseListFile(text, 'blacklist.txt')
    const used = process.cpuUsage(cpu)
    if (i > 0) parseMs = Math.min(parseMs, (used.user + used.system) / 1000)
  }
  gc()
  const base = process.memoryUsage()
  const parsed = parseListFile(text, 'blacklist.txt')
  gc()
  const after = process.memoryUsage()
  if (parsed.entries.size === 0) throw new Error('parsed no entry')
  return { heldMb: (after.heapUsed - base.heapUsed) / 1e6, buffersMb: (after.arrayBuffers - base.arrayBuffers) / 1e6, parseMs }
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]
}

function main (): void {
  const arg = (name: string, fallback: string): string => process.argv.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
  const lists = arg('lists', '121k,1M').split(',') as ListName[]
  const runs = Number(arg('runs', '5'))
  console.log(`load before: ${loadavg().map(l => l.toFixed(2)).join(' ')}`)
  for (const name of lists) {
    const samples: Sample[] = []
    for (let r = 0; r < runs; r++) {
      const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), `--child=${name}`], { encoding: 'utf8' })
      samples.push(JSON.parse(out) as Sample)
    }
    const held = samples.map(s => s.heldMb.toFixed(2)).join(' ')
    const cpu = samples.map(s => s.parseMs.toFixed(0)).join(' ')
    console.log(`${name}: heap held by the parse ${median(samples.map(s => s.heldMb)).toFixed(2)} MB (${held}), typed arrays ${median(samples.map(s => s.buffersMb)).toFixed(2)} MB, parse CPU ${median(samples.map(s => s.parseMs)).toFixed(0)} ms (${cpu})`)
  }
  console.log(`load after: ${loadavg().map(l => l.toFixed(2)).join(' ')}`)
}

const child = process.argv.find(a => a.startsWith('--child='))?.slice(8) as ListName | undefined
if (child !== undefined) {
  runOnce(child).then(s => process.stdout.write(JSON.stringify(s)), (err: unknown) => {
    console.error(err)
    process.exitCode = 1
  })
} else {
  main()
}
