/**
 * CPU per beacon frame (issue 17, idle CPU): an idle agent's CPU is nearly all beacon frames sent
 * and received, so this times one frame through the path an agent uses: a BeaconLink on each of
 * two libp2p nodes in this process (TCP on 127.0.0.1, Noise, yamux), one 300-byte frame sent and
 * awaited at a time, and the process's CPU time (both sides) divided by the frames. Frames are
 * paced in small groups with a timer between them, as an idle agent's are, not in one burst.
 * Prints one JSON object: microseconds of CPU per frame for each run and their median.
 *
 * Run: `npx tsc -p . && npx node --optimize-for-size --no-turbofan dist/bench/beacon-frame.js
 *   [--frames=2000] [--runs=5]` (the flags of bin/spamsync.js, Sparkplug and Maglev on as in an
 * agent that has worked). Unbundled: the bundle's patches of yamux and TCP
 * (scripts/bundle-*.ts) are not in it.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { createSpamsyncNode, type SpamsyncNode } from '../src/net/libp2p-node.js'
import { generateClusterKey, type ClusterKey } from '../src/net/cluster-key.js'
import { BeaconLink } from '../src/protocol/beacon-link.js'

/** Frames sent before timing: the link opens and the code warms up. */
const WARM_UP_FRAMES = 200

/** Frames sent back to back between two pauses of a timer tick. */
const GROUP = 50

async function linkedNode (key: ClusterKey, onFrame: () => void): Promise<{ node: SpamsyncNode, link: BeaconLink }> {
  const node = await createSpamsyncNode({ privateKey: await generateKeyPair('Ed25519'), clusterKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false })
  const link = new BeaconLink(node, onFrame)
  await link.start()
  return { node, link }
}

/** One run: CPU microseconds per frame, sender and receiver together. */
export async function frameCpuUs (frames: number): Promise<number> {
  const key = generateClusterKey()
  let got = 0
  let wake: (() => void) | null = null
  const a = await linkedNode(key, () => {})
  const b = await linkedNode(key, () => { got++; wake?.() })
  try {
    await a.node.dial(b.node.getMultiaddrs()[0])
    const frame = new Uint8Array(300).fill(7)
    const one = async (): Promise<void> => {
      const before = got
      const heard = new Promise<void>(resolve => { wake = resolve })
      a.link.send(frame, () => [])
      if (got === before) await heard
    }
    for (let i = 0; i < WARM_UP_FRAMES; i++) await one()
    const cpu0 = process.cpuUsage()
    for (let i = 0; i < frames; i++) {
      await one()
      if (i % GROUP === 0) await new Promise(resolve => setTimeout(resolve, 1))
    }
    const cpu = process.cpuUsage(cpu0)
    return (cpu.user + cpu.system) / frames
  } finally {
    await a.link.stop()
    await b.link.stop()
    await a.node.stop()
    await b.node.stop()
  }
}

export async function main (opts: { frames?: number, runs?: number } = {}): Promise<{ bench: 'beacon-frame', node: string, frames: number, usPerFrame: number[], median: number }> {
  const frames = opts.frames ?? 2000
  const runs: number[] = []
  const t0 = performance.now()
  for (let r = 0; r < (opts.runs ?? 5); r++) runs.push(Math.round(await frameCpuUs(frames)))
  process.stderr.write(`[beacon-frame] ${runs.length} runs in ${Math.round((performance.now() - t0) / 1000)} s\n`)
  const sorted = [...runs].sort((x, y) => x - y)
  return { bench: 'beacon-frame', node: process.version, frames, usPerFrame: runs, median: sorted[Math.floor((sorted.length - 1) / 2)] }
}

function parseArgs (argv: string[]): { frames?: number, runs?: number } {
  const opts: { frames?: number, runs?: number } = {}
  for (const arg of argv) {
    const [k, v] = arg.split('=')
    if (k === '--frames') opts.frames = Number(v)
    else if (k === '--runs') opts.runs = Number(v)
    else throw new Error(`unknown option ${arg} (--frames=2000 --runs=5)`)
  }
  return opts
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(parseArgs(process.argv.slice(2))).then((r) => { process.stdout.write(JSON.stringify(r) + '\n') }, (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`)
    process.exitCode = 1
  })
}
