#!/usr/bin/env node
// Plain JavaScript that any Node.js can parse, so an old runtime gets one clear line, not a stack.
const MIN_NODE_MAJOR = 22
const major = Number(process.versions.node.split('.')[0])
if (major < MIN_NODE_MAJOR) {
  process.stderr.write(`spamsync: UnsupportedRuntimeError: Node.js >= ${MIN_NODE_MAJOR} is required, this is ${process.versions.node} (run it through npm/npx, which use the project's Node 24)\n`)
  process.exit(1)
}
// Cache V8's compiled code of the modules across runs (NODE_COMPILE_CACHE picks the folder, default
// in the temp folder): loading them is most of a short command's time. Node < 22.1 has no cache.
// Not for `start`: node keeps the cache files it read in memory for as long as it runs (heaptrack:
// 1.3 MB of malloc); an idle agent with empty settings held 63.6-64.1 MB without, 64.7-64.8 with
// (4 agents each), for ~0.1 s more CPU time at its start.
// glibc gives each thread busy in malloc an arena of its own and keeps freed memory in them: with a
// large Bayes DB that is ~150 MB of RSS the agent no longer uses. Two arenas keep the agent under
// 512 MB. A fixed mmap threshold (glibc raises it, up to 32 MiB, after each large free) gives
// large blocks back when freed: 19 MB less idle RSS after the 121k-line blacklist's first scan at
// 128 KiB. At 32 KiB also the compile zones of the start (32-128 KiB blocks, 4.4 MB at the peak)
// go back: at 128 KiB half of the empty agents kept 2-3 MB of them in the heap, pinned below a
// block still in use (10 agents at 20 s: 64.2-66.2-67.4 MB, against 64.2-64.5-64.7 at 32 KiB).
// At 8 KiB the blocks of the first scan of a large list go back too (LevelDB's memtable blocks,
// one per encoded bucket: heaptrack saw 262 of ~20 KiB, 5.3 MB, at the 121k-line list's peak)
// instead of leaving holes below blocks still in use: idle RSS 75.5 -> 73.3 MB (median of 6 and 8 agents; malloc_trim, which
// node cannot call, then gave back 1.7-5.9 MB at 32 KiB and 1.5-2.4 MB at 8 KiB), the same with
// empty settings (64.8 MB), and no CPU time to measure. V8's --optimize-for-size keeps a smaller young generation and grows the heap less
// eagerly: an idle agent held 6 MB less with empty settings and 75-95 MB less with the 121k-line
// blacklist, for ~20% more CPU time during its first scan (bench/footprint.ts). --no-turbofan
// leaves V8's top compiler out (Maglev still optimizes hot code): TurboFan's code is ~5 MB of
// the node binary that stays resident once it compiled anything, which even an idle agent does
// within minutes; idle RSS 73.3 -> 67.2 MB empty, 122.4 -> 118.9 MB with the 121k-line
// blacklist, whose first scan took no more CPU time (4.6 against 4.8 s, load ~10).
// --no-sparkplug --no-maglev start it without V8's baseline and mid-tier compilers too, which the
// agent turns on once it works (src/cli/compilers-when-busy.ts, told which by
// SPAMSYNC_COMPILERS_WHEN_BUSY): an agent that stays idle holds 4-5 MB less (63.1 against 67.9 MB
// empty) and does not grow by the code they make for its idle work over the first minutes. The
// agent starts itself again (same pid) with these unless the operator set MALLOC_ARENA_MAX and
// MALLOC_MMAP_THRESHOLD_ and gave node each flag or its opposite (--no-optimize-for-size,
// --turbofan, --sparkplug, --maglev). The heap's growth under --optimize-for-size is lifted while
// the agent does large work and set again once it is quiet (src/cli/work-gear.ts, told by
// SPAMSYNC_LEAN_WHEN_IDLE): with it a sync's per-line steps take nearly twice the CPU time.
const V8_FLAGS = [
  { flag: '--optimize-for-size', set: ['--optimize-for-size', '--no-optimize-for-size'], whenIdle: 'optimize-for-size' },
  { flag: '--no-turbofan', set: ['--turbofan', '--no-turbofan', '--opt', '--no-opt', '--max-opt'] },
  { flag: '--no-sparkplug', set: ['--sparkplug', '--no-sparkplug', '--always-sparkplug', '--jitless'], whenBusy: 'sparkplug' },
  { flag: '--no-maglev', set: ['--maglev', '--no-maglev', '--opt', '--no-opt', '--max-opt', '--jitless'], whenBusy: 'maglev' }
]
const unset = V8_FLAGS.filter(f => !process.execArgv.some(a => f.set.includes(a.split('=')[0])))
const flags = unset.map(f => f.flag)
const whenBusy = unset.filter(f => f.whenBusy !== undefined).map(f => f.whenBusy).join(',')
const whenIdle = unset.filter(f => f.whenIdle !== undefined).map(f => f.whenIdle).join(',')
const mallocEnv = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '8192',
  ...(whenBusy !== '' ? { SPAMSYNC_COMPILERS_WHEN_BUSY: whenBusy } : {}),
  ...(whenIdle !== '' ? { SPAMSYNC_LEAN_WHEN_IDLE: whenIdle } : {})
}
const addEnv = Object.keys(mallocEnv).some(k => process.env[k] === undefined)
if (process.argv[2] === 'start' && process.platform === 'linux' && (addEnv || flags.length > 0) && typeof process.execve === 'function') {
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...flags, ...process.argv.slice(1)], { ...mallocEnv, ...process.env })
}
if (process.argv[2] !== 'start') {
  const { enableCompileCache } = await import('node:module')
  enableCompileCache?.()
}
// The bundle (scripts/bundle.ts, made by npm run build): an idle agent holds 25 MB less than
// with the compiled modules loaded one by one. Those only when they were compiled after it (a `tsc` alone), so
// no run uses code older than the last build; the Debian package holds the bundle only.
const { statSync } = await import('node:fs')
const mtime = (path) => statSync(new URL(path, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1
const bundled = mtime('../dist/bundle/spamsync.js')
const entry = bundled >= 0 && bundled >= mtime('../dist/src/cli/main.js') ? '../dist/bundle/spamsync.js' : '../dist/src/cli/main.js'
let cli
try {
  cli = await import(entry)
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes(entry.slice(3))) throw err
  process.stderr.write('spamsync: not built yet: run npm install (or npm run build) in the spamsync folder\n')
  process.exit(1)
}
const code = await cli.runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text)
})
process.exitCode = code
