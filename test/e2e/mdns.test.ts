/**
 * mDNS discovery, inside a network namespace the test makes (loopback only, multicast routed to
 * lo), so no multicast leaves the machine. Two agents with no bootstrap address must find each
 * other and sync.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { Cluster, CLI, waitFor } from '../helpers/agents.js'

const NS = `spamsync-mdns-${process.pid}`

/** Why the namespace cannot be made here, or null when it was made. */
function makeNamespace (): string | null {
  try {
    execFileSync('ip', ['netns', 'add', NS], { stdio: 'pipe' })
  } catch (err: any) {
    return `cannot create a network namespace (needs root and iproute2): ${String(err.stderr ?? err.message).trim()}`
  }
  for (const args of [['link', 'set', 'lo', 'up'], ['link', 'set', 'lo', 'multicast', 'on'], ['route', 'add', '224.0.0.0/4', 'dev', 'lo']]) {
    execFileSync('ip', ['netns', 'exec', NS, 'ip', ...args], { stdio: 'pipe' })
  }
  return null
}

function removeNamespace (): void {
  try { execFileSync('ip', ['netns', 'del', NS], { stdio: 'pipe' }) } catch {}
}

const skip = makeNamespace()
if (skip === null) removeNamespace()

test('two agents with mDNS only find each other and sync', { skip: skip ?? false, timeout: 60_000 }, async (t) => {
  assert.equal(makeNamespace(), null)
  const cluster = await Cluster.create()
  const procs: ChildProcess[] = []
  t.after(async () => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL')
    await Promise.all(procs.map(async p => { if (p.exitCode === null && p.signalCode === null) await new Promise(resolve => p.once('exit', resolve)) }))
    removeNamespace()
    await cluster.cleanup()
  })
  const [a, b] = [await cluster.add(), await cluster.add()]
  for (const [i, agent] of [a, b].entries()) {
    const p = spawn('ip', ['netns', 'exec', NS, process.execPath, CLI, 'start', '--data-dir', agent.dataDir, '--settings-dir', agent.settingsDir,
      '--cluster-key', cluster.keyFile, '--listen', `/ip4/127.0.0.1/tcp/${4800 + i}`, '--http-port', String(8800 + i), '--debounce-ms', '50'], { stdio: 'ignore' })
    procs.push(p)
  }
  await a.writeList('blacklist', 'found-by-mdns.example.com\n')
  await waitFor('b to receive the entry over mDNS-found connection', async () => (await b.keys('blacklist')).includes('found-by-mdns.example.com'), 40_000, 250)
  const status = JSON.parse(execFileSync('ip', ['netns', 'exec', NS, process.execPath, CLI, 'status', '--json', '--http-port', '8801'], { encoding: 'utf8' }))
  assert.equal(status.peers.filter((p: any) => p.connected).length, 1)
})
