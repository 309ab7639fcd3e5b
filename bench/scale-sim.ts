/**
 * Scale by simulation (`npm run bench:sim`): the real election, beacon encoding and fan-out
 * (bench/sim/cluster.ts) on a virtual network of 10, 50, 200 and 1,000 nodes, one process, no
 * libp2p. Per size:
 * - beacons: frames and bytes each node sends per second once the cluster is steady;
 * - a one-line change on a random slave (and one on the master), timed until every node applied it;
 * - failover: the master killed, timed until every survivor follows one new master, and until
 *   every survivor applied the new term's full archive; what the new master sent (fan-out) and
 *   received (every slave's full upload to a new master).
 * Prints one JSON object, then a table. protocol/scale.md has the numbers and what they mean.
 *
 * Run: `npm run bench:sim`, or `npx node dist/bench/scale-sim.js [--sizes=10,50,200,1000]
 *   [--seed=N] [--trials=N] [--window-ms=N] [--no-fan-out] [--no-relay] [--cost=serveDeltaMs:5 ...]`.
 */
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { SimCluster } from './sim/cluster.js'
import { DEFAULT_COSTS, FRAME_OVERHEAD_BYTES, INTRODUCE_AFTER_MS, type SimCosts, type SimOptions } from './sim/model.js'
import { simTable } from './report.js'
import { prng } from './sim/events.js'
import { DEFAULT_HEARTBEAT_INTERVAL_MS, MAX_LONG_BEACON_PERIOD, beaconPeriod } from '../src/election/state.js'

/** One simulated cluster size. */
export interface ScaleSimRow {
  nodes: number
  seed: number
  /** Virtual time until every node followed one master, from a cold start. */
  electedFromColdMs: number | null
  beacon: {
    /** Beacon frames one node sends per second (mean over nodes). */
    framesPerNodePerS: number
    /** Their bytes: length prefix and protobuf, as beacon-link.ts writes them. */
    bytesPerNodePerS: number
    /** The same with yamux, Noise and TCP/IP headers (FRAME_OVERHEAD_BYTES per frame). */
    wireBytesPerNodePerS: number
    /** Mean frame (prefix + protobuf). */
    frameBytes: number
    /** Beacon bytes the master sends per second: it beacons every heartbeat to every node. */
    masterBytesPerS: number | null
    /** Median over the other nodes (slaves beacon every beacon period). */
    slaveBytesPerSP50: number | null
    /** The busiest node's beacon bytes per second, master included: what every node stays under. */
    maxBytesPerS: number
  }
  change: {
    /** Per change: time until the last node applied it. */
    allMs: number[]
    /** Per change: where it was made. */
    origins: Array<'master' | 'slave'>
    /** Median and maximum of allMs. */
    p50Ms: number | null
    maxMs: number | null
    /** Median over every (change, receiver). */
    receiverP50Ms: number | null
    timeouts: number
  }
  failover: {
    /** Kill until every survivor follows one new master. */
    electedMs: number | null
    /** Kill until every survivor applied the new master's first version (a full archive: no delta across terms). */
    allAppliedMs: number | null
    /** Full archives the new master sent, and their bytes. */
    masterArchives: number
    masterEgressBytes: number
    /** Full archives the other nodes passed on. */
    peerArchives: number
    archiveBytes: number
    /** Full uploads the new master must merge (every survivor uploads its state to a new master). */
    fullUploads: number
    uploadBytes: number
    /** Kill until the new master merged them all, one at a time (projected for those still on the way). */
    uploadsMergedMs: number | null
  }
  rejoin: {
    /** The killed master started again: until it follows the new master. */
    followsMs: number | null
    /** Introduction frames it sent in its first 2 s (every member it heard, to every other peer), and their bytes. */
    introFrames: number
    introBytes: number
    /** Introduction frames each other node sent (mean): the restarted member, to its other peers. */
    introFramesPerOther: number
  }
  /** Real seconds the simulation of this size took, and the events it ran. */
  wallMs: number
  events: number
  errors: number
}

export interface ScaleSimResult {
  sizes: number[]
  seed: number
  costs: SimCosts
  latencyMs: [number, number]
  bandwidthMbitPerS: number
  fanOut: boolean
  relay: boolean
  rows: ScaleSimRow[]
}

/** Options of one run; every field has a default. */
export interface ScaleSimOptions {
  sizes?: number[]
  seed?: number
  /** Changes timed per size (one of them on the master). */
  trials?: number
  /** Virtual time over which steady beacon traffic is counted. */
  windowMs?: number
  fanOut?: boolean
  log?: (s: string) => void
  sim?: Partial<SimOptions>
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor((s.length - 1) / 2)]
}
const r1 = (x: number): number => Math.round(x * 10) / 10

/** Simulates one cluster size. */
// eslint-disable-next-line max-lines-per-function -- one simulated run: the phases share the cluster and its virtual clock
export async function simulate (nodes: number, opts: ScaleSimOptions = {}): Promise<ScaleSimRow> {
  const seed = opts.seed ?? 1
  const trials = opts.trials ?? 5
  // Two beacon periods of a slave (at least 2 s): every node's schedule is counted whole.
  const windowMs = opts.windowMs ?? Math.max(2000, 2 * beaconPeriod(nodes, MAX_LONG_BEACON_PERIOD) * DEFAULT_HEARTBEAT_INTERVAL_MS)
  const log = opts.log ?? (() => {})
  const t0 = performance.now()
  const c = new SimCluster({ ...opts.sim, nodes, seed, fanOut: opts.fanOut ?? true })
  const random = prng(seed ^ 0x5eed)

  // Cold start: every node starts within one heartbeat and the election alone runs.
  const electedFromColdMs = await c.until(() => c.agreedMaster() !== null, 60_000)
  if (electedFromColdMs === null) throw new Error(`${nodes} nodes: no master agreed on within 60 s of a cold start`)
  // One more heartbeat, so every node has heard every other; then the cluster is as if it had run a while.
  await c.runFor(DEFAULT_HEARTBEAT_INTERVAL_MS)
  c.settle()
  // The settled versions make every slave beacon at once (a change); steady traffic is counted after that.
  await c.runFor(DEFAULT_HEARTBEAT_INTERVAL_MS)
  log(`${nodes} nodes: master after ${Math.round(electedFromColdMs)} ms from a cold start`)

  c.resetCounters()
  await c.runFor(windowMs)
  let frames = 0
  let bytes = 0
  let nodeBytes: number[] = []
  for (const n of c.nodes) {
    frames += n.counters.beaconFrames + n.counters.introFrames
    bytes += n.counters.beaconBytes + n.counters.introBytes
    nodeBytes.push(n.counters.beaconBytes + n.counters.introBytes)
  }
  const perNodeS = nodes * windowMs / 1000
  const steadyMaster = c.agreedMaster()
  nodeBytes = nodeBytes.map(b => Math.round(b / (windowMs / 1000)))
  const beacon = {
    framesPerNodePerS: r1(frames / perNodeS),
    bytesPerNodePerS: Math.round(bytes / perNodeS),
    wireBytesPerNodePerS: Math.round((bytes + frames * FRAME_OVERHEAD_BYTES) / perNodeS),
    frameBytes: r1(bytes / frames),
    masterBytesPerS: steadyMaster === null ? null : nodeBytes[steadyMaster.index],
    slaveBytesPerSP50: median(nodeBytes.filter((_, i) => i !== steadyMaster?.index)),
    maxBytesPerS: Math.max(...nodeBytes)
  }
  log(`${nodes} nodes: ${beacon.framesPerNodePerS} beacons and ${beacon.bytesPerNodePerS} B per node per second`)

  const allMs: number[] = []
  const origins: Array<'master' | 'slave'> = []
  const receivers: number[] = []
  let timeouts = 0
  for (let t = 0; t < trials; t++) {
    const master = c.agreedMaster()
    if (master === null) throw new Error(`${nodes} nodes: no agreed master before change ${t + 1}`)
    let origin = master.index
    if (t > 0) {
      do origin = Math.floor(random() * nodes)
      while (origin === master.index)
    }
    const trial = await c.change(origin, 10_000)
    const done = [...trial.doneAt.entries()].filter(([i]) => i !== origin).map(([, at]) => at - trial.startedAt)
    if (trial.doneAt.size < c.alive().length) timeouts++
    else allMs.push(r1(Math.max(...done)))
    origins.push(origin === master.index ? 'master' : 'slave')
    receivers.push(...done)
    await c.runFor(100 + random() * 400)
  }
  const change = { allMs, origins, p50Ms: median(allMs), maxMs: allMs.length === 0 ? null : Math.max(...allMs), receiverP50Ms: median(receivers.map(r1)), timeouts }
  log(`${nodes} nodes: a change on every node after ${change.p50Ms} ms (median), ${change.maxMs} ms (max)`)

  // Failover at a random point of the heartbeat.
  await c.runFor(random() * 1000)
  const old = c.agreedMaster()
  if (old === null) throw new Error(`${nodes} nodes: no agreed master before the failover`)
  c.resetCounters()
  const killedAt = c.queue.now
  c.kill(old.index)
  const electedMs = await c.until(() => { const m = c.agreedMaster(); return m !== null && m !== old }, 60_000)
  const appliedRest = await c.until(() => c.converged(), 60_000)
  const allAppliedMs = appliedRest === null ? null : c.queue.now - killedAt
  const master = c.agreedMaster()
  let peerArchives = 0
  for (const n of c.nodes) if (n !== master) peerArchives += n.counters.servedFull
  const archiveBytes = c.costs.fullArchiveBytes
  const survivors = c.alive().length
  let uploadsMergedMs: number | null = null
  if (master !== null) {
    // Each full upload still on its way adds a merge behind those already queued.
    const notYet = survivors - 1 - master.counters.fullUploadsIn
    uploadsMergedMs = Math.max(master.queueFreeAt, c.queue.now) + notYet * c.costs.mergeFullMs - killedAt
  }
  const failover = {
    electedMs: electedMs === null ? null : r1(electedMs),
    allAppliedMs: allAppliedMs === null ? null : r1(allAppliedMs),
    masterArchives: master?.counters.servedFull ?? 0,
    masterEgressBytes: master?.counters.servedBytes ?? 0,
    peerArchives,
    archiveBytes,
    fullUploads: survivors - 1,
    uploadBytes: (survivors - 1) * archiveBytes,
    uploadsMergedMs: uploadsMergedMs === null ? null : Math.round(uploadsMergedMs)
  }
  log(`${nodes} nodes: failover elected after ${failover.electedMs} ms, all applied after ${failover.allAppliedMs} ms, master sent ${failover.masterArchives} archives`)

  // The killed master comes back, silent for longer than INTRODUCE_AFTER_MS, once the others
  // have a new master (at 5 s a 2 s heartbeat's election was still on, and the node, knowing no
  // master, introduced every member it heard).
  await c.runFor(Math.max(0, killedAt + Math.max(5000, 2 * INTRODUCE_AFTER_MS) - c.queue.now))
  c.resetCounters()
  const restartedAt = c.queue.now
  c.restart(old.index)
  const followsMs = await c.until(() => old.election.role === 'slave' && old.election.masterId === master?.id, 30_000)
  await c.runFor(Math.max(0, restartedAt + 2000 - c.queue.now))
  let otherIntros = 0
  for (const n of c.nodes) if (n !== old) otherIntros += n.counters.introFrames
  const rejoin = {
    followsMs: followsMs === null ? null : r1(followsMs),
    introFrames: old.counters.introFrames,
    introBytes: old.counters.introBytes,
    introFramesPerOther: r1(otherIntros / (nodes - 1))
  }
  log(`${nodes} nodes: the old master back, follows after ${rejoin.followsMs} ms, sent ${rejoin.introFrames} introductions (${rejoin.introBytes} B), the others ${rejoin.introFramesPerOther} each`)
  return { nodes, seed, electedFromColdMs: r1(electedFromColdMs), beacon, change, failover, rejoin, wallMs: Math.round(performance.now() - t0), events: c.queue.ran, errors: c.errors }
}

/** Runs every size in turn. */
export async function main (opts: ScaleSimOptions = {}): Promise<ScaleSimResult> {
  const sizes = opts.sizes ?? [10, 50, 200, 1000]
  const seed = opts.seed ?? 1
  const rows: ScaleSimRow[] = []
  for (const n of sizes) rows.push(await simulate(n, { ...opts, seed }))
  const probe = new SimCluster({ ...opts.sim, nodes: 2 })
  return {
    sizes,
    seed,
    costs: probe.costs,
    latencyMs: [opts.sim?.latencyMinMs ?? 0.2, opts.sim?.latencyMaxMs ?? 1],
    bandwidthMbitPerS: (opts.sim?.bandwidthBytesPerMs ?? 125_000) * 8 / 1000,
    fanOut: opts.fanOut ?? true,
    relay: opts.sim?.relay ?? true,
    rows
  }
}

function parseArgs (argv: string[]): ScaleSimOptions {
  const opts: ScaleSimOptions = {}
  for (const arg of argv) {
    const [k, v] = arg.split('=')
    if (k === '--sizes') opts.sizes = v.split(',').map(Number)
    else if (k === '--seed') opts.seed = Number(v)
    else if (k === '--trials') opts.trials = Number(v)
    else if (k === '--window-ms') opts.windowMs = Number(v)
    else if (k === '--no-fan-out') opts.fanOut = false
    else if (k === '--no-relay') opts.sim = { ...opts.sim, relay: false }
    else if (k === '--cost') {
      // --cost=serveDeltaMs:5 changes one of the model's work times or sizes (DEFAULT_COSTS).
      const [name, value] = v.split(':')
      if (!(name in DEFAULT_COSTS) || !Number.isFinite(Number(value))) throw new Error(`--cost takes name:number with a name of ${Object.keys(DEFAULT_COSTS).join(', ')}`)
      opts.sim = { ...opts.sim, costs: { ...opts.sim?.costs, [name]: Number(value) } }
    } else throw new Error(`unknown option ${arg} (--sizes=10,50,200,1000 --seed=N --trials=N --window-ms=N --no-fan-out --no-relay --cost=name:number)`)
  }
  return opts
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const opts = parseArgs(process.argv.slice(2))
  main({ ...opts, log: (s) => { process.stderr.write(s + '\n') } }).then((r) => {
    process.stdout.write(JSON.stringify(r, null, 2) + '\n\n' + simTable(r) + '\n')
  }, (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`)
    process.exitCode = 1
  })
}
