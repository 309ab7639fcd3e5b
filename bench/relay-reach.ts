/**
 * How much of the master's heartbeat the relay tree delivers when nodes are not all connected
 * (protocol/scale.md, "Up to which size"): a real agent keeps at most MAX_CONNECTIONS
 * connections, and a relay can pass a beat only over one. Runs the production `relayTargets`
 * (src/election/relay-tree.ts) for every node of every beat, over a fixed random link graph
 * (each pair linked with probability links / (n - 1), the same for the whole run), with and
 * without the fallback that passes an unreachable child over for its children. Membership views
 * are taken as agreeing (every node knows every member): the best case for the tree.
 * Per size: the share of members that get a beat, and the share of members that miss 3 beats
 * in a row at least once over the run (W: such a member would count its master as gone).
 *
 * Run: `npx node dist/bench/relay-reach.js [--sizes=65,200,1000] [--links=64] [--beats=300] [--seed=1]`.
 */
import { pathToFileURL } from 'node:url'
import { RELAY_FAN_OUT, relayTargets } from '../src/election/relay-tree.js'
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_MISSED_HEARTBEATS } from '../src/election/state.js'
import { pairUniform } from './sim/events.js'

/** One size with one link budget. */
export interface ReachRow {
  nodes: number
  links: number
  fallback: boolean
  /** Mean share of the members (the master excluded) that got a beat. */
  reached: number
  /** Share of members that missed DEFAULT_MISSED_HEARTBEATS beats in a row at least once. */
  lostMaster: number
}

/** Follows `beats` beats from the master through the tree over the link graph; see the file comment. */
export function reach (nodes: number, links: number, beats: number, fallback: boolean, seed = 1): ReachRow {
  const ids = Array.from({ length: nodes }, (_, i) => `n${String(i).padStart(5, '0')}`)
  const index = new Map(ids.map((id, i) => [id, i]))
  const p = Math.min(1, links / (nodes - 1))
  const linked = (a: string, b: string): boolean => {
    const i = index.get(a) as number
    const j = index.get(b) as number
    return pairUniform(Math.min(i, j), Math.max(i, j), seed) < p
  }
  const root = ids[0]
  const members = [...ids].sort()
  const run = new Int32Array(nodes)
  const lost = new Uint8Array(nodes)
  let got = 0
  for (let k = 0; k < beats; k++) {
    const beat = 1_800_000_000_000 + k * DEFAULT_HEARTBEAT_INTERVAL_MS
    const has = new Uint8Array(nodes)
    let frontier = [root]
    while (frontier.length > 0) {
      const next: string[] = []
      for (const from of frontier) {
        for (const to of relayTargets(root, from, members, beat, RELAY_FAN_OUT, fallback ? id => linked(from, id) : undefined)) {
          if (!linked(from, to)) continue
          const j = index.get(to) as number
          if (has[j] === 0) next.push(to)
          has[j] = 1
        }
      }
      frontier = next
    }
    for (let j = 1; j < nodes; j++) {
      got += has[j]
      run[j] = has[j] === 1 ? 0 : run[j] + 1
      if (run[j] >= DEFAULT_MISSED_HEARTBEATS) lost[j] = 1
    }
  }
  const share = (x: number): number => Math.round(x * 1000) / 1000
  return { nodes, links, fallback, reached: share(got / (beats * (nodes - 1))), lostMaster: share(lost.reduce((a, b) => a + b, 0) / (nodes - 1)) }
}

function main (argv: string[]): void {
  const arg = (name: string, fallback: string): string => argv.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
  const sizes = arg('sizes', '65,200,1000').split(',').map(Number)
  const links = Number(arg('links', '64'))
  const beats = Number(arg('beats', '300'))
  const seed = Number(arg('seed', '1'))
  const rows: ReachRow[] = []
  for (const n of sizes) for (const fallback of [false, true]) rows.push(reach(n, links, beats, fallback, seed))
  const table = ['| nodes | links per node | fallback | members reached per beat | members that miss 3 beats in a row |', '| --- | --- | --- | --- | --- |',
    ...rows.map(r => `| ${r.nodes} | ${r.links} | ${r.fallback ? 'yes' : 'no'} | ${(r.reached * 100).toFixed(1)}% | ${(r.lostMaster * 100).toFixed(1)}% |`)]
  process.stdout.write(JSON.stringify({ bench: 'relay-reach', links, beats, seed, rows }, null, 2) + '\n\n' + table.join('\n') + '\n')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2))
