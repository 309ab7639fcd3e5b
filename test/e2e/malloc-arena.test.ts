/**
 * `spamsync start` on Linux runs with MALLOC_ARENA_MAX=2 unless the environment sets it: glibc's
 * per-thread arenas otherwise keep freed memory, and a large Bayes DB pushes RSS past 512 MB.
 * It also runs V8 with --optimize-for-size (a much smaller idle heap, bench/footprint.ts) and
 * --no-turbofan (~6 MB less RSS), also when the environment sets MALLOC_ARENA_MAX, as the
 * systemd unit does, and without Sparkplug and Maglev until it works (src/cli/compilers-when-busy.ts);
 * the heap's growth under the first is lifted while it works (src/cli/work-gear.ts).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { Cluster } from '../helpers/agents.js'

/** MALLOC_ARENA_MAX in the environment of the agent process started while the variable is `value`, its whole environment and its command line. */
async function agentStartedWith (t: { after: (fn: () => Promise<void>) => void }, value: string | undefined): Promise<{ arena: string | undefined, argv: string[], env: Record<string, string> }> {
  const saved = process.env.MALLOC_ARENA_MAX
  if (value === undefined) delete process.env.MALLOC_ARENA_MAX
  else process.env.MALLOC_ARENA_MAX = value
  const cluster = await Cluster.create()
  t.after(async () => { await cluster.cleanup() })
  try {
    const [agent] = await cluster.startAll(1)
    const environ = await readFile(`/proc/${agent.proc!.pid!}/environ`, 'utf8')
    const argv = (await readFile(`/proc/${agent.proc!.pid!}/cmdline`, 'utf8')).split('\0')
    const env = Object.fromEntries(environ.split('\0').filter(e => e.includes('=')).map(e => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
    return { arena: env.MALLOC_ARENA_MAX, argv, env }
  } finally {
    if (saved === undefined) delete process.env.MALLOC_ARENA_MAX
    else process.env.MALLOC_ARENA_MAX = saved
  }
}

test('the agent limits glibc to two malloc arenas when the environment does not say', { skip: process.platform !== 'linux' && 'glibc arenas are a Linux matter' }, async (t) => {
  assert.equal((await agentStartedWith(t, undefined)).arena, '2')
})

test('an operator\'s MALLOC_ARENA_MAX is kept', { skip: process.platform !== 'linux' && 'glibc arenas are a Linux matter' }, async (t) => {
  assert.equal((await agentStartedWith(t, '4')).arena, '4')
})

test('the agent fixes glibc\'s mmap threshold at 8 KiB when the environment does not say', { skip: process.platform !== 'linux' && 'glibc is a Linux matter' }, async (t) => {
  assert.equal((await agentStartedWith(t, '2')).env.MALLOC_MMAP_THRESHOLD_, '8192')
})

test('the agent runs V8 with --optimize-for-size and --no-turbofan, also when the environment sets MALLOC_ARENA_MAX', { skip: process.platform !== 'linux' && 'the agent restarts itself with them on Linux only' }, async (t) => {
  for (const arena of [undefined, '2']) {
    const { argv } = await agentStartedWith(t, arena)
    assert.ok(argv.includes('--optimize-for-size') && argv.includes('--no-turbofan'), argv.join(' '))
  }
})

test('the agent starts V8 without Sparkplug and Maglev and names them for the agent to turn on once it works', { skip: process.platform !== 'linux' && 'the agent restarts itself with them on Linux only' }, async (t) => {
  const { argv, env } = await agentStartedWith(t, undefined)
  assert.ok(argv.includes('--no-sparkplug') && argv.includes('--no-maglev'), argv.join(' '))
  assert.equal(env.SPAMSYNC_COMPILERS_WHEN_BUSY, 'sparkplug,maglev')
})

test('the agent names --optimize-for-size for the agent to lift the heap\'s growth under it while it works', { skip: process.platform !== 'linux' && 'the agent restarts itself with them on Linux only' }, async (t) => {
  const { env } = await agentStartedWith(t, undefined)
  assert.equal(env.SPAMSYNC_LEAN_WHEN_IDLE, 'optimize-for-size')
})
