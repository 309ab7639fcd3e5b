import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RELAY_FAN_OUT, TURN_STEP_MS, relayTargets } from '../../../src/election/relay-tree.js'
import { DEFAULT_HEARTBEAT_INTERVAL_MS } from '../../../src/election/options.js'

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `n${String(i).padStart(4, '0')}`)

/** Follows beat `beat` from the root through every node's own targets: how often each member got it, and the hops. */
function spread (root: string, members: string[], beat: number, linked?: (from: string, to: string) => boolean): { got: Map<string, number>, hops: number } {
  const got = new Map<string, number>()
  let frontier = [root]
  let hops = 0
  while (frontier.length > 0) {
    const next: string[] = []
    for (const from of frontier) {
      for (const to of relayTargets(root, from, members, beat, RELAY_FAN_OUT, linked === undefined ? undefined : id => linked(from, id))) {
        got.set(to, (got.get(to) ?? 0) + 1)
        next.push(to)
      }
    }
    if (next.length > 0) hops++
    frontier = next
  }
  return { got, hops }
}

test('with agreeing views every member gets each beat exactly once, in about log2(n) hops', () => {
  for (const n of [1, 2, 3, 10, 50, 200]) {
    const members = ids(n)
    for (const beat of [0, 1, 7, 1_800_000_000_123]) {
      const { got, hops } = spread('root', members, beat)
      assert.deepEqual([...got.keys()].sort(), members, `n=${n} beat=${beat}`)
      assert.ok([...got.values()].every(c => c === 1), `n=${n} beat=${beat}`)
      assert.ok(hops <= Math.ceil(Math.log2(n + 1)), `n=${n}: ${hops} hops`)
    }
  }
})

test('past the connection limit, a child its parent has no link to misses the beat, and its subtree still gets it once', () => {
  const members = ids(200)
  // About a third of all links missing, fixed per pair (as connections pruned past the limit).
  const linked = (a: string, b: string): boolean => (parseInt(a.slice(1)) * 7 + parseInt(b.slice(1)) * 13) % 3 !== 0
  for (const beat of [0, 1, 1_800_000_000_123]) {
    const { got } = spread('root', members, beat, linked)
    assert.ok([...got.values()].every(c => c === 1), `beat=${beat}: a member got the beat twice`)
    const missed = members.filter(m => !got.has(m))
    // Only a member that its nearest ancestor holding the beat has no link to misses it.
    const parentOf = (m: string): string => ['root', ...members].find(p => relayTargets('root', p, members, beat).includes(m)) as string
    for (const m of missed) {
      let holder = parentOf(m)
      while (holder !== 'root' && !got.has(holder)) holder = parentOf(holder)
      assert.equal(linked(holder, m), false, `beat=${beat}: ${m} missed it though ${holder} held it and has a link`)
    }
    // Without the fallback a missing link cost the whole subtree under it.
    const { got: plain } = spread('root', members, beat)
    const reachedPlain = members.filter(m => { let a = m; while (a !== 'root') { const p = parentOf(a); if (!linked(p, a)) return false; a = p } return plain.has(m) })
    assert.ok(got.size > 2 * reachedPlain.length, `beat=${beat}: ${got.size} of ${members.length} got it, ${reachedPlain.length} without the fallback`)
  }
})

test('no node sends more than RELAY_FAN_OUT copies of one beat', () => {
  const members = ids(200)
  for (const self of ['root', ...members]) assert.ok(relayTargets('root', self, members, 12345).length <= RELAY_FAN_OUT)
})

test('the forwarding turns with the beat: over beats a heartbeat apart (1 s up to 0.6.0, 1.5 s now) every member relays about as often, whatever n', () => {
  for (const [n, apart] of [9, 10, 20, 50, 199, 200].flatMap(n => [[n, 1000], [n, DEFAULT_HEARTBEAT_INTERVAL_MS]])) {
    const members = ids(n)
    const sent = new Map<string, number>(members.map(m => [m, 0]))
    const beats = 2000
    for (let k = 0; k < beats; k++) {
      const beat = 1_800_000_000_000 + k * apart
      for (const m of members) sent.set(m, (sent.get(m) ?? 0) + relayTargets('root', m, members, beat).length)
    }
    // Each beat the members send n - RELAY_FAN_OUT copies between them.
    const mean = beats * (n - RELAY_FAN_OUT) / n
    const counts = [...sent.values()]
    assert.ok(Math.max(...counts) < 1.05 * mean && Math.min(...counts) > 0.95 * mean, `n=${n}, ${apart} ms: ${Math.min(...counts)}-${Math.max(...counts)} copies, mean ${mean}`)
  }
})

test('a node outside the members it knows, and the root\'s own entry, relay nothing more', () => {
  assert.deepEqual(relayTargets('root', 'stranger', ids(5), 3), [])
  assert.deepEqual(spread('n0002', ids(5), 9).got.has('n0002'), false)
})

test('the tree turns per TURN_STEP_MS (1,000 ms) of the beat, not per heartbeat, so agents of a 1 s and of a 1.5 s heartbeat build the same trees', () => {
  const members = ids(20)
  const beat = 1_800_000_000_000
  const tree = (b: number): string[][] => ['root', ...members].map(self => relayTargets('root', self, members, b))
  assert.deepEqual(tree(beat + TURN_STEP_MS - 1), tree(beat))
  assert.notDeepEqual(tree(beat + TURN_STEP_MS), tree(beat))
})
