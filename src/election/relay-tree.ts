/**
 * Who passes the master's heartbeat to whom (election-v1.md, "Relayed heartbeat"): a tree rooted
 * at the master over the members that relay, each node sending to at most RELAY_FAN_OUT others,
 * so no node's share of the heartbeat grows with the cluster. Every node computes the tree from
 * its own view of the members; the order turns with every beat, so the forwarding moves round
 * the cluster and one silent or slow relay costs its children one beat, not every beat. Pure.
 */

/** Copies of one master heartbeat a node sends: the master to its first children, each member to its own. */
export const RELAY_FAN_OUT = 2

/**
 * The members `self` passes beat `beat` of master `root` on to. `members` are the live members
 * that relay, in plain string order, `self` included (the root, if listed, is skipped). Nodes
 * whose views agree reach every member exactly once, in about log_k(n) hops. A child `reachable`
 * says `self` has no connection to (past the connection limit) is passed over for its own
 * children, and so on down, so a missing link costs the beat to that child alone, not to the
 * subtree under it.
 */
export function relayTargets (root: string, self: string, members: readonly string[], beat: number, fanOut = RELAY_FAN_OUT, reachable?: (id: string) => boolean): string[] {
  const others = members.filter(m => m !== root)
  const n = others.length
  if (n === 0) return []
  // The tree is the heap [root, ...others turned by the beat]: node j's children are k*j+1 .. k*j+k.
  const turn = turnOf(beat, n)
  let j = 0
  if (self !== root) {
    const at = others.indexOf(self)
    if (at < 0) return []
    j = (at - turn + n) % n + 1
  }
  const out: string[] = []
  // Heap positions still to place, at most the subtree under j: each position is looked at once.
  const todo = [j]
  while (todo.length > 0) {
    const at = todo.pop() as number
    for (let c = fanOut * at + 1; c <= Math.min(n, fanOut * at + fanOut); c++) {
      const id = others[(c - 1 + turn) % n]
      if (reachable === undefined || reachable(id)) out.push(id)
      else todo.push(c)
    }
  }
  return out
}

/** The golden ratio's fractional part: multiples of it mod 1 spread evenly over any stretch (Fibonacci hashing). */
const GOLDEN = (Math.sqrt(5) - 1) / 2

/**
 * Milliseconds of a beat per step of the turn: 1,000, the heartbeat interval of agents up to
 * 0.6.0, which compute the tree with it; every node of a cluster must turn the same way, so it
 * stays at 1,000 with the longer heartbeat (consecutive heartbeats then turn it by 1 or 2 steps, which
 * the golden ratio spreads as well).
 */
export const TURN_STEP_MS = 1000

/**
 * How far the list turns at beat `beat` (ms): the heartbeat it falls in, times the golden ratio,
 * mod 1, scaled to n. Consecutive heartbeats turn it by about 0.62 n, so which members forward
 * changes every beat and evens out within a few beats, even where n divides 1,000 (beat mod n
 * would leave the same members forwarding beat after beat in a cluster of 11, 21, 51 nodes).
 */
function turnOf (beat: number, n: number): number {
  const x = Math.floor(beat / TURN_STEP_MS) * GOLDEN
  return Math.min(n - 1, Math.floor((x - Math.floor(x)) * n))
}
