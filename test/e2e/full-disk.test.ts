/**
 * A full disk: the slave's data folder, or its settings folder, is a small tmpfs that a filler
 * file fills up. A change from the master then cannot be stored or written: status and the log
 * say so, the settings file stays exactly the old version, and once the filler is removed the
 * sync completes by itself, without a restart.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, open, readdir, rm, rmdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster, waitFor, type AgentProcess } from '../helpers/agents.js'

/** Why a tmpfs cannot be mounted here, or null. */
async function cannotMount (): Promise<string | null> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-tmpfs-probe-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'pipe' })
    execFileSync('umount', [dir], { stdio: 'pipe' })
    return null
  } catch (err: any) {
    return `cannot mount a tmpfs (needs root): ${String(err?.stderr ?? err?.message).trim()}`
  } finally {
    await rmdir(dir).catch(() => {})
  }
}

/** Writes zeros into `path` until the file system is full. */
async function fillUp (path: string): Promise<void> {
  const fh = await open(path, 'w')
  const chunk = Buffer.alloc(64 * 1024)
  try {
    for (;;) {
      try {
        await fh.write(chunk)
      } catch (err: any) {
        if (err?.code !== 'ENOSPC') throw err
        // Use the last bytes too: smaller writes can still fit.
        return await fillRest(fh)
      }
    }
  } finally {
    await fh.close()
  }
}

async function fillRest (fh: Awaited<ReturnType<typeof open>>): Promise<void> {
  for (let size = 32 * 1024; size >= 1; size = Math.floor(size / 2)) {
    for (;;) {
      try {
        await fh.write(Buffer.alloc(size))
      } catch (err: any) {
        if (err?.code === 'ENOSPC') break
        throw err
      }
    }
  }
}

const domains = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}.example`)
const text = (keys: string[]): string => [...keys].sort().join('\n') + '\n'

const skip = await cannotMount()

/**
 * Two agents; `who` (the slave unless told) has its `folder` ('data' or 'settings') on a tmpfs
 * of `size`. Returns once both hold `oldKeys`.
 */
async function setUp (t: any, folder: 'data' | 'settings', size: string, oldKeys: string[], who: 'master' | 'slave' = 'slave'): Promise<{ master: AgentProcess, slave: AgentProcess }> {
  const cluster = await Cluster.create()
  let mounted = ''
  t.after(async () => {
    await cluster.cleanup().catch(() => {})
    if (mounted !== '') execFileSync('umount', ['-l', mounted], { stdio: 'pipe' })
    await rm(cluster.root, { recursive: true, force: true })
  })
  const master = await cluster.add(['--priority', '10'])
  const slave = await cluster.add()
  const full = who === 'master' ? master : slave
  const dir = folder === 'data' ? full.dataDir : full.settingsDir
  execFileSync('mkdir', ['-p', dir])
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' })
  mounted = dir
  await master.start()
  await slave.start([master.multiaddr])
  await cluster.waitForOneMaster([master, slave])
  await master.writeList('blacklist', text(oldKeys))
  await waitFor('the slave to hold the old list', async () => await slave.readList('blacklist') === text(oldKeys), 30_000)
  return { master, slave }
}

/** Waits for the agent's file to be `want`; prints its status and log when it does not get there. */
async function fileBecomes (slave: AgentProcess, want: string, what: string): Promise<void> {
  try {
    await waitFor(what, async () => await slave.readList('blacklist') === want, 60_000, 250)
  } catch (err) {
    const got = await slave.readList('blacklist')
    console.error(`--- slave file: ${got.length} bytes, ${got.split('\n').length - 1} lines (want ${want.length}, ${want.split('\n').length - 1}), ends ${JSON.stringify(got.slice(-80))}`)
    console.error(`--- slave status\n${JSON.stringify(await slave.status().catch((e: Error) => e.message))}\n--- slave log\n${slave.output.slice(-4000)}`)
    throw err
  }
}

/** Temp files an atomic write left in the settings folder. */
async function strays (a: AgentProcess): Promise<string[]> {
  return (await readdir(a.settingsDir)).filter(f => f.startsWith('.'))
}

describe('a full disk', { skip: skip ?? false, timeout: 180_000 }, () => {
  test('a full data folder: the error shows in status and the log, the file stays old, and the sync completes once space is freed', async (t) => {
    const oldKeys = domains('kept', 100)
    const newKeys = [...oldKeys, ...domains('more', 3000)]
    const { master, slave } = await setUp(t, 'data', '8m', oldKeys)
    const filler = join(slave.dataDir, 'filler')
    await fillUp(filler)

    await master.writeList('blacklist', text(newKeys))
    const error = await waitFor('the slave to report that it cannot store the change', async () => {
      const s = await slave.status()
      return s.errors.find((e: any) => /no space|ENOSPC/i.test(e.message))
    }, 30_000, 250)
    assert.match(`${error.what}: ${error.message}`, /space/i)
    console.log(`full data folder: ${JSON.stringify(error)}`)
    assert.match(slave.output, /"event":"sync-error".*(no space|ENOSPC)/i)
    assert.equal(await slave.readList('blacklist'), text(oldKeys))

    await rm(filler)
    await fileBecomes(slave, text(newKeys), 'the slave to hold the new list without a restart')
    assert.equal((await slave.status()).datasets.blacklist.entries, newKeys.length)
    // What was stored survives a restart.
    assert.equal(await slave.stop(), 0)
    await slave.start([master.multiaddr])
    assert.equal((await slave.status()).datasets.blacklist.entries, newKeys.length)
  })

  test('a full settings folder: the error shows in status and the log, the file stays old, and the file is written once space is freed', async (t) => {
    const oldKeys = domains('kept', 100)
    const newKeys = [...oldKeys, ...domains('more', 3000)]
    const { master, slave } = await setUp(t, 'settings', '256k', oldKeys)
    const filler = join(slave.settingsDir, 'filler.bin')
    await fillUp(filler)

    await master.writeList('blacklist', text(newKeys))
    const error = await waitFor('the slave to report that it cannot write the file', async () => {
      const s = await slave.status()
      return s.errors.find((e: any) => /no space|ENOSPC/i.test(e.message))
    }, 30_000, 250)
    assert.match(`${error.what}: ${error.message}`, /blacklist/)
    assert.match(slave.output, /"event":"sync-error".*(no space|ENOSPC)/i)
    // The retries of the next two heartbeats fail too while the folder is full.
    await waitFor('two more failed retries', async () => (await slave.status()).errors.find((e: any) => e.what === error.what)?.count >= error.count + 2, 30_000, 250)
    assert.equal(await slave.readList('blacklist'), text(oldKeys))
    assert.deepEqual(await strays(slave), [])
    console.log(`full settings folder: ${JSON.stringify(error)}`)

    await rm(filler)
    await fileBecomes(slave, text(newKeys), 'the slave to write the new list without a restart')
    assert.equal((await slave.status()).datasets.blacklist.entries, newKeys.length)
    assert.deepEqual(await strays(slave), [])
  })

  test('a full data folder on the master: its own status and log show the error, and the upload is merged once space is freed', async (t) => {
    const oldKeys = domains('kept', 100)
    const newKeys = [...oldKeys, ...domains('more', 3000)]
    const { master, slave } = await setUp(t, 'data', '8m', oldKeys, 'master')
    const filler = join(master.dataDir, 'filler')
    await fillUp(filler)

    await slave.writeList('blacklist', text(newKeys))
    const error = await waitFor('the master to report that it cannot store the upload', async () => {
      const s = await master.status()
      return s.errors.find((e: any) => /no space|ENOSPC/i.test(e.message))
    }, 30_000, 250)
    // Stored on the master's disk as it arrives (receive), or merged into LevelDB (merge): either fails.
    assert.match(error.what, /(receive|merge) upload from/)
    assert.match(master.output, /"event":"sync-error".*(no space|ENOSPC)/i)
    assert.equal(await master.readList('blacklist'), text(oldKeys))

    await rm(filler)
    await fileBecomes(master, text(newKeys), 'the master to merge the upload without a restart')
    assert.equal((await master.status()).datasets.blacklist.entries, newKeys.length)
  })
})
