/**
 * bin/spamsync.js caches V8's compiled code of its modules for the short commands, whose time is
 * mostly loading them, but not for `spamsync start`: node keeps the cache files it read in
 * memory for as long as the process runs (1.3 MB for an agent that runs for months).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster, runCli } from '../helpers/agents.js'

/** Runs `fn` with TMPDIR (where node puts its compile cache by default) a fresh folder, which it returns. */
async function inFreshTmp (t: { after: (fn: () => Promise<void>) => void }, fn: () => Promise<void>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-compile-cache-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const saved = { TMPDIR: process.env.TMPDIR, NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE }
  process.env.TMPDIR = dir
  delete process.env.NODE_COMPILE_CACHE
  try {
    await fn()
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  return dir
}

test('a short command caches the compiled code of the modules', async (t) => {
  const dir = await inFreshTmp(t, async () => {
    assert.equal(runCli(['keygen', '--out', join(process.env.TMPDIR ?? '', 'cluster.key')]).code, 0)
  })
  assert.ok(existsSync(join(dir, 'node-compile-cache')))
})

test('the agent neither reads nor writes the compile cache', async (t) => {
  // Made first: its cluster key comes from a short command.
  const cluster = await Cluster.create()
  t.after(async () => { await cluster.cleanup() })
  const dir = await inFreshTmp(t, async () => {
    const [agent] = await cluster.startAll(1)
    await agent.stop()
  })
  assert.ok(!existsSync(join(dir, 'node-compile-cache')))
})
