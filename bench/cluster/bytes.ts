/** The cluster benchmark's bytes phase: sync-stream bytes per receiver for a one-line change on a slave, next to a full archive. */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { runCli, type AgentProcess } from '../../test/helpers/agents.js'
import { parseListFile } from '../../src/settings/list-file.js'
import { benchList, type ListName } from '../lists.js'
import { appendLine, blacklistPath, describe, round, settleCounters, startCluster, statuses, timeUntilLine, vkey, waitStable, withCluster } from './harness.js'
import type { BytesResult } from './types.js'
import { median } from '../local/harness.js'
import { timeline as traceTimeline, timelineText } from '../initial/timeline.js'

/** Pause between the extra timed changes, so each starts on a quiet cluster (default; --change-pause-s). */
export const CHANGE_PAUSE_S = 3

/**
 * `count` more one-line changes on node `origin`, each timed until every other node's file has it
 * (polled every 10 ms) and the cluster agrees on `entries` + 1 keys; returns their times.
 */
async function moreChanges (agents: AgentProcess[], origin: number, entries: number, count: number, scale: number, listName: ListName, log: (s: string) => void, pauseS: number): Promise<number[]> {
  const out: number[] = []
  for (let n = 1; n <= count; n++) {
    await new Promise(resolve => setTimeout(resolve, pauseS * 1000))
    const domain = `spamsync-bench-more-${n}.example.com`
    const tc = performance.now()
    await appendLine(agents[origin], domain)
    const times = await Promise.all(agents.filter((_, i) => i !== origin).map(async a => await timeUntilLine(a, domain, tc, 10, 60_000 * scale)))
    if (times.includes(null)) throw new Error(`extra change ${n} did not reach every node in ${Math.round(60 * scale)} s:\n${await describe(agents)}`)
    out.push(round(Math.max(...(times as number[]))))
    const want = entries + n
    await waitStable(agents, `${want} keys after extra change ${n}`, { stableMs: 1000, timeoutMs: 120_000 * scale, extra: (all) => all.every(s => s?.datasets?.blacklist?.entries === want) })
    log(`bytes[${listName}]: extra change ${n} reached all in ${out[out.length - 1]} ms`)
    // With SPAMSYNC_TRACE=1 (inherited by the agents): where the change's time went, on every node.
    if (process.env.SPAMSYNC_TRACE === '1') log(`bytes[${listName}]: trace of extra change ${n} (origin n${origin + 1}):\n${timelineText(traceTimeline(new Map(agents.map((a, i) => [`n${i + 1}`, a.output])), performance.timeOrigin + tc))}`)
  }
  return out
}

/** One-line changes tried in the bytes phase before giving up on one without a term change. */
export const CHANGE_ATTEMPTS = 3

// eslint-disable-next-line max-lines-per-function -- one measured sequence on one cluster: start, converge, the change attempts and their bytes
export async function bytes (nodes: number, listName: ListName, log: (s: string) => void, changes = 1, pauseS = CHANGE_PAUSE_S): Promise<BytesResult> {
  const { domains, source } = await benchList(listName)
  const list = domains.join('\n') + '\n'
  // Waits grow with the list: the first sync of 1M entries takes minutes on a loaded machine.
  const scale = Math.max(1, domains.length / 121_570)
  const withFailover = listName === '121k'
  // A few domains are listed twice (Unicode and punycode): one key, the second line is reported
  // as a duplicate and not synced. So convergence is "every node holds every key".
  const keys = parseListFile(list, 'blacklist.txt').entries.size
  const added = 'spamsync-bench-bytes.example.com'
  if (domains.includes(added)) throw new Error(`${added} is already in the domain list`)

  // eslint-disable-next-line max-lines-per-function -- the body of the sequence above, run inside withCluster so the cluster is always removed
  return await withCluster(async (cluster) => {
    const t0 = performance.now()
    const { agents, ms: startMs } = await startCluster(cluster, nodes, async (a) => { await writeFile(blacklistPath(a), list) }, 90_000 * scale)
    log(`bytes[${listName}]: ${nodes} agents started in ${Math.round(startMs)} ms (node1 holds ${domains.length} lines)`)
    const hasAll = (all: any[]): boolean => all.every(s => s?.datasets?.blacklist?.entries === keys)
    const timeline: string[] = []
    const tw = performance.now()
    const stable = await waitStable(agents, `${keys} blacklist keys on all ${nodes} agents`, {
      timeoutMs: 180_000 * scale,
      stableMs: 4000,
      extra: hasAll,
      onPoll: (all, ms) => { recordTimeline(timeline, all, tw - t0 + ms) }
    })
    const convergeMs = tw - t0 + stable.ms
    log(`bytes[${listName}]: converged ${Math.round(convergeMs)} ms after the first start`)
    await settleCounters(agents)

    const initial = await statuses(agents)
    const initialSlaves = agents.map((_, i) => i).filter(i => i !== stable.masterIndex)
    const initialReceivedPerSlave = initialSlaves.reduce((sum, i) => sum + initial[i].bytesReceived, 0) / (nodes - 1)
    const fullDownloadBytes = initialSlaves.map(i => initial[i].lastDownload).filter(d => d?.kind === 'full').map(d => d.bytes as number)

    // The change: one domain added on a slave (not node1, whose file has the operator's duplicates).
    // A term change in the middle (a spurious election on a loaded machine) makes every slave
    // re-sync in full, so such an attempt is reported but repeated, up to CHANGE_ATTEMPTS times.
    let masterIndex = stable.masterIndex
    let entries = keys
    const attempts: BytesResult['attempts'] = []
    let chosen: BytesResult['attempts'][number] | undefined
    for (let attempt = 1; attempt <= CHANGE_ATTEMPTS && chosen === undefined; attempt++) {
      const before = await statuses(agents)
      const slaveIndexes = agents.map((_, i) => i).filter(i => i !== masterIndex)
      const origin = slaveIndexes.find(i => i !== 0) ?? slaveIndexes[0]
      const domain = attempt === 1 ? added : `spamsync-bench-bytes-${attempt}.example.com`
      const tc = performance.now()
      await appendLine(agents[origin], domain)
      const times = await Promise.all(agents.filter((_, i) => i !== origin).map(async a => await timeUntilLine(a, domain, tc, 100, 60_000 * scale)))
      if (times.includes(null)) throw new Error(`the one-line change did not reach every node in ${Math.round(60 * scale)} s:\n${await describe(agents)}`)
      const changeMs = Math.max(...(times as number[]))
      entries++
      const want = entries
      const after0 = await waitStable(agents, 'versions to agree after the change', { stableMs: 1000, timeoutMs: 120_000 * scale, extra: (all) => all.every(s => s?.datasets?.blacklist?.entries === want) })
      await settleCounters(agents)
      const after = await statuses(agents)
      const perNode = agents.map((_, i) => ({
        node: i + 1,
        role: i === origin ? 'slave (origin)' : after[i].role as string,
        sentDelta: after[i].bytesSent - before[i].bytesSent,
        receivedDelta: after[i].bytesReceived - before[i].bytesReceived
      }))
      const totalSent = perNode.reduce((x, p) => x + p.sentDelta, 0)
      const totalReceived = perNode.reduce((x, p) => x + p.receivedDelta, 0)
      const termBefore = before[masterIndex].term as number
      const termAfter = after[after0.masterIndex].term as number
      const result = {
        attempt,
        origin: origin + 1,
        masterBefore: masterIndex + 1,
        masterAfter: after0.masterIndex + 1,
        termBefore,
        termAfter,
        changeMs: round(changeMs),
        totalSentPerReceiver: round(totalSent / (nodes - 1)),
        totalReceivedPerReceiver: round(totalReceived / (nodes - 1)),
        masterSentPerReceiver: round(perNode[masterIndex].sentDelta / (nodes - 1)),
        perNode
      }
      attempts.push(result)
      log(`bytes[${listName}]: attempt ${attempt}: change on node${origin + 1} reached all in ${Math.round(changeMs)} ms; ${totalSent} bytes sent in all; term ${termBefore} -> ${termAfter}`)
      if (process.env.SPAMSYNC_TRACE === '1') log(`bytes[${listName}]: trace of attempt ${attempt} (origin n${origin + 1}):\n${timelineText(traceTimeline(new Map(agents.map((a, i) => [`n${i + 1}`, a.output])), performance.timeOrigin + tc))}`)
      if (termBefore === termAfter && masterIndex === after0.masterIndex) chosen = result
      masterIndex = after0.masterIndex
    }
    const clean = chosen !== undefined
    chosen ??= attempts[attempts.length - 1]
    const changeSamplesMs = [chosen.changeMs, ...await moreChanges(agents, chosen.origin - 1, entries, changes - 1, scale, listName, log, pauseS)]
    entries += changeSamplesMs.length - 1

    // What a failover costs with this list: the master killed, the survivors elect, re-sync.
    // Measured on one list only; the export below then comes from a survivor that is not master.
    const failover = withFailover ? await killMasterAndResync(agents, masterIndex, entries, listName, log) : undefined
    const exporter = failover?.exporter ?? agents.find((_, i) => i !== masterIndex) ?? agents[0]

    // Reference: a full archive of one node's state, from the CLI on the stopped node.
    let exportBytes: number | null = null
    await exporter.stop()
    const zipPath = join(cluster.root, 'export.zip')
    const out = runCli(['export', '--data-dir', exporter.dataDir, '--settings-dir', exporter.settingsDir, zipPath])
    const m = /\((\d+) bytes\)/.exec(out.stdout)
    if (out.code === 0 && m !== null) exportBytes = Number(m[1])
    else log(`bytes[${listName}]: export failed (${out.code}): ${out.stderr.trim()}`)

    return {
      list: listName,
      source,
      listBytes: Buffer.byteLength(list),
      nodes,
      domains: domains.length,
      keys,
      startMs: round(startMs),
      convergeMs: round(convergeMs),
      clean,
      changeMs: chosen.changeMs,
      changeSamplesMs,
      changeMedianMs: median(changeSamplesMs),
      totalSentPerReceiver: chosen.totalSentPerReceiver,
      totalReceivedPerReceiver: chosen.totalReceivedPerReceiver,
      masterSentPerReceiver: chosen.masterSentPerReceiver,
      perNode: chosen.perNode,
      attempts,
      initialReceivedPerSlave: Math.round(initialReceivedPerSlave),
      fullDownloadBytes,
      exportBytes,
      convergeTimeline: timeline,
      failover: failover === undefined ? undefined : { syncedMs: failover.syncedMs, perNode: failover.perNode, timeline: failover.timeline }
    }
  })
}

/** Kills the master with SIGKILL and waits until the survivors agree on every entry again. */
async function killMasterAndResync (agents: AgentProcess[], masterIndex: number, entries: number, listName: ListName, log: (s: string) => void):
Promise<NonNullable<BytesResult['failover']> & { exporter: AgentProcess }> {
  const survivors = agents.filter((_, i) => i !== masterIndex)
  const fb = await statuses(survivors)
  const tk = performance.now()
  await agents[masterIndex].kill9()
  const failoverTimeline: string[] = []
  const tws = performance.now()
  const settled = await waitStable(survivors, 'the survivors to agree after killing the master', {
    timeoutMs: 120_000,
    stableMs: 2000,
    extra: (all) => all.every(s => s?.datasets?.blacklist?.entries === entries),
    onPoll: (all, ms) => { recordTimeline(failoverTimeline, all, ms) }
  })
  const failoverSyncedMs = tws - tk + settled.ms
  await settleCounters(survivors)
  const fa = await statuses(survivors)
  const failoverPerNode = survivors.map((a, i) => ({
    node: agents.indexOf(a) + 1,
    role: fa[i].role as string,
    sentDelta: fa[i].bytesSent - fb[i].bytesSent,
    receivedDelta: fa[i].bytesReceived - fb[i].bytesReceived
  }))
  log(`bytes[${listName}]: after killing the master, survivors agreed in ${Math.round(failoverSyncedMs)} ms and moved ${failoverPerNode.reduce((x, p) => x + p.sentDelta, 0)} bytes`)
  return {
    syncedMs: round(failoverSyncedMs),
    perNode: failoverPerNode,
    timeline: failoverTimeline,
    exporter: survivors.find(a => a !== settled.master) ?? survivors[0]
  }
}

/** Appends the cluster's state to `timeline` when it differs from the last one recorded. */
function recordTimeline (timeline: string[], all: any[], ms: number): void {
  const state = all.map((s, i) => s === null
    ? `n${i + 1}:down`
    : `n${i + 1}:${String(s.role).slice(0, 1)}/t${s.term}/${s.datasets?.blacklist?.entries}/${vkey(s.appliedVersion)}/rx${s.bytesReceived}/tx${s.bytesSent}`).join(' ')
  const last = timeline[timeline.length - 1]
  if (last === undefined || last.slice(last.indexOf(' ') + 1) !== state) timeline.push(`${Math.round(ms)} ${state}`)
}
