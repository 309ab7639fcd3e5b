/** The two sides of the comparison: 3 syncthing instances and 3 spamsync agents sharing the same list. */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { freePort, waitFor } from '../../test/helpers/agents.js'
import { blacklistPath, round, settleCounters, startCluster, statuses, waitStable, withCluster } from '../cluster/harness.js'
import { dropFile, timeUntilAllLines } from '../initial/drop.js'
import { measureChanges, settleOn } from './changes.js'
import { SyncthingInstance } from './instance.js'
import { foreignPeers } from './loopback.js'
import { type LoopbackCheck, NODES, POLL_MS, type ToolResult } from './types.js'

export const liveSyncthing = new Set<SyncthingInstance>()
export const liveRoots = new Set<string>()

export async function syncthingSide (list: string, keys: number, reps: number, version: string, loopback: LoopbackCheck, log: (s: string) => void): Promise<ToolResult> {
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
    const ts = performance.now()
    for (const inst of instances) {
      liveSyncthing.add(inst)
      await inst.start()
    }
    log(`syncthing: ${NODES} instances started in ${Math.round(performance.now() - ts)} ms`)
    await waitConnected(instances)
    const settle = async (): Promise<void> => { await settleOn(async () => JSON.stringify(await Promise.all(instances.map(async i => await i.bytesSent())))) }
    await settle()
    const initial = await dropAndTime(instances.map(i => i.file), join(root, 'drop.txt'), list, keys)
    log(`syncthing: dropped list on every instance after ${(initial.perFileMs ?? []).map(t => t === null ? 'TIMEOUT' : Math.round(t)).join(' / ')} ms`)
    await waitFor('syncthing to copy the list to every instance', async () => {
      for (const inst of instances.slice(1)) {
        let text: string
        try { text = await readFile(inst.file, 'utf8') } catch { return false }
        if (text !== list) return false
      }
      return true
    }, 300_000, 50)
    await settle()
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
      ...initial,
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
    // Running, with a master and nothing to sync, before the file appears.
    const { agents } = await startCluster(cluster, NODES)
    await waitStable(agents, `${NODES} agents to agree on a master`, { timeoutMs: 120_000, stableMs: 2000 })
    await settleCounters(agents)
    const initial = await dropAndTime(agents.map(a => blacklistPath(a)), join(cluster.root, 'drop.txt'), list, keys)
    log(`spamsync: dropped list on every agent after ${(initial.perFileMs ?? []).map(t => t === null ? 'TIMEOUT' : Math.round(t)).join(' / ')} ms`)
    await waitStable(agents, `${keys} blacklist keys on all ${NODES} agents`, {
      timeoutMs: 300_000,
      stableMs: 2000,
      extra: (all) => all.every(s => s?.datasets?.blacklist?.entries === keys)
    })
    await settleCounters(agents)
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
      ...initial,
      appBytesMethod: 'sum over agents of /status bytesSent (sync streams before Noise/yamux; beacons not counted)',
      ...measured
    }
  })
}

/**
 * Drops `list` into the first node's folder and times, the same way for both tools, until each
 * other node's copy holds every one of its `keys` lines (polled every POLL_MS).
 */
async function dropAndTime (files: string[], staging: string, list: string, keys: number): Promise<Pick<ToolResult, 'initialSyncMs' | 'perFileMs'>> {
  const t0 = performance.now()
  await dropFile(files[0], staging, list)
  const perFile = await timeUntilAllLines(files.slice(1), keys, t0, POLL_MS, 300_000)
  return {
    initialSyncMs: perFile.includes(null) ? null : round(Math.max(...(perFile as number[]))),
    perFileMs: perFile.map(t => t === null ? null : round(t))
  }
}

/** Waits until every instance is connected to every other: running, with nothing to sync, before the file appears. */
async function waitConnected (instances: SyncthingInstance[]): Promise<void> {
  await waitFor('every syncthing instance to be connected to the others', async () => {
    for (const inst of instances) {
      const conns = Object.values((await inst.api('/rest/system/connections')).connections as Record<string, { connected: boolean }>)
      if (conns.filter(c => c.connected).length < NODES - 1) return false
    }
    return true
  }, 120_000, 200)
}
