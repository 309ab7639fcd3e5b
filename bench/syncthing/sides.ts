/** The two sides of the comparison: 3 syncthing instances and 3 spamsync agents sharing the same list. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { freePort, waitFor } from '../../test/helpers/agents.js'
import { blacklistPath, round, settleCounters, startCluster, statuses, waitStable, withCluster } from '../cluster/harness.js'
import { measureChanges, settleOn } from './changes.js'
import { SyncthingInstance } from './instance.js'
import { foreignPeers } from './loopback.js'
import { type LoopbackCheck, NODES, type ToolResult } from './types.js'

export const liveSyncthing = new Set<SyncthingInstance>()
export const liveRoots = new Set<string>()

export async function syncthingSide (list: string, reps: number, version: string, loopback: LoopbackCheck, log: (s: string) => void): Promise<ToolResult> {
  const root = await mkdtemp(join(tmpdir(), 'spamsync-bench-syncthing-'))
  liveRoots.add(root)
  const instances: SyncthingInstance[] = []
  const pids = (): number[] => instances.flatMap(i => i.pids())
  const watch = setInterval(() => {
    const seen = foreignPeers(pids())
    loopback.samples++
    loopback.socketsSeen += seen.sockets
    for (const p of seen.found) if (!loopback.foreignPeers.includes(p)) loopback.foreignPeers.push(p)
  }, 200)
  try {
    for (let i = 0; i < NODES; i++) {
      const inst = new SyncthingInstance(join(root, `st${i + 1}`, 'home'), join(root, `st${i + 1}`, 'folder'), await freePort(), await freePort())
      await inst.generate()
      instances.push(inst)
    }
    for (const inst of instances) await inst.writeConfig(instances)
    await writeFile(instances[0].file, list)
    const t0 = performance.now()
    for (const inst of instances) {
      liveSyncthing.add(inst)
      await inst.start()
    }
    log(`syncthing: ${NODES} instances started in ${Math.round(performance.now() - t0)} ms`)
    await waitFor('syncthing to copy the list to every instance', async () => {
      for (const inst of instances.slice(1)) {
        let text: string
        try { text = await readFile(inst.file, 'utf8') } catch { return false }
        if (text !== list) return false
      }
      return true
    }, 300_000, 50)
    const settle = async (): Promise<void> => { await settleOn(async () => JSON.stringify(await Promise.all(instances.map(async i => await i.bytesSent())))) }
    await settle()
    const initialSyncMs = round(performance.now() - t0)
    log(`syncthing: list on all instances, quiet after ${Math.round(initialSyncMs)} ms`)
    const measured = await measureChanges({
      files: instances.map(i => i.file),
      appBytesSent: async () => (await Promise.all(instances.map(async i => await i.bytesSent()))).reduce((a, b) => a + b, 0),
      pids,
      httpPorts: instances.map(i => i.guiPort),
      settle
    }, 'syncthing', reps, log)
    return {
      tool: 'syncthing',
      version,
      nodes: NODES,
      initialSyncMs,
      appBytesMethod: 'sum over instances of /rest/system/connections total.outBytesTotal (BEP messages before TLS)',
      ...measured
    }
  } finally {
    clearInterval(watch)
    for (const inst of instances) { await inst.stop(); liveSyncthing.delete(inst) }
    await rm(root, { recursive: true, force: true })
    liveRoots.delete(root)
  }
}

export async function spamsyncSide (list: string, keys: number, reps: number, log: (s: string) => void): Promise<ToolResult> {
  return await withCluster(async (cluster) => {
    const t0 = performance.now()
    const { agents } = await startCluster(cluster, NODES, async (a) => { await writeFile(blacklistPath(a), list) })
    await waitStable(agents, `${keys} blacklist keys on all ${NODES} agents`, {
      timeoutMs: 300_000,
      stableMs: 2000,
      extra: (all) => all.every(s => s?.datasets?.blacklist?.entries === keys)
    })
    await settleCounters(agents)
    const initialSyncMs = round(performance.now() - t0)
    log(`spamsync: list on all agents, quiet after ${Math.round(initialSyncMs)} ms`)
    const version = String((await statuses(agents))[0]?.agentVersion ?? (await statuses(agents))[0]?.version?.agent ?? '?')
    const measured = await measureChanges({
      files: agents.map(a => blacklistPath(a)),
      appBytesSent: async () => (await statuses(agents)).reduce((sum, s) => sum + (s?.bytesSent ?? 0), 0),
      pids: () => agents.map(a => a.proc?.pid).filter((p): p is number => p !== undefined),
      httpPorts: agents.map(a => a.httpPort),
      settle: async () => { await settleCounters(agents) }
    }, 'spamsync', reps, log)
    return {
      tool: 'spamsync',
      version,
      nodes: NODES,
      initialSyncMs,
      appBytesMethod: 'sum over agents of /status bytesSent (sync streams before Noise/yamux; beacons not counted)',
      ...measured
    }
  })
}
