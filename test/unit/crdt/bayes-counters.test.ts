import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { addContribution, emptyBayesDb, joinContributions, mergeContributions, ownDelta, tokensOf, type BayesDb, type NodeContribution, type TokenCounts } from '../../../src/crdt/bayes-counters.js'
import { RUNS, db, rows, version, copy, TOKENS, dbArb, versionsArb } from '../../helpers/bayes-dbs.js'

describe('mergeContributions', () => {
  test('sums counts over nodes, keeps the newest atime and joins seen ids', () => {
    const merged = mergeContributions([
      version('a', 1, db(2, 1, { '0000000001': [1, 0, 10], '0000000002': [0, 1, 20] }, { m1: 's' })),
      version('b', 4, db(1, 3, { '0000000001': [2, 5, 30] }, { m2: 'h' }))
    ])
    assert.deepEqual(merged, db(3, 4, { '0000000001': [3, 5, 30], '0000000002': [0, 1, 20] }, { m1: 's', m2: 'h' }))
  })

  test('counts only the highest revision of each node, whatever the order', () => {
    const old = version('a', 1, db(1, 0, { '0000000001': [1, 0, 10] }))
    const newer = version('a', 2, db(2, 0, { '0000000001': [2, 0, 11] }))
    const expected = db(2, 0, { '0000000001': [2, 0, 11] })
    assert.deepEqual(mergeContributions([old, newer]), expected)
    assert.deepEqual(mergeContributions([newer, old]), expected)
  })

  test('picks the same one of two different versions with one revision, whatever the order', () => {
    const x = version('a', 1, db(1, 0, { '0000000001': [1, 0, 10] }))
    const y = version('a', 1, db(1, 0, { '0000000002': [1, 0, 10] }))
    assert.deepEqual(mergeContributions([x, y]), mergeContributions([y, x]))
  })

  test('gives the spam flag when nodes learned one message differently', () => {
    const a = version('a', 1, db(0, 1, {}, { m1: 'h' }))
    const b = version('b', 1, db(1, 0, {}, { m1: 's' }))
    assert.equal(mergeContributions([a, b]).seen.get('m1'), 's')
    assert.equal(mergeContributions([b, a]).seen.get('m1'), 's')
  })

  test('leaves out a token whose counts sum to 0 (only its atime was seen)', () => {
    const merged = mergeContributions([version('a', 1, db(0, 0, { '0000000001': [0, 0, 50], '0000000002': [0, 1, 5] }))])
    assert.deepEqual([...rows(merged.tokens).keys()], ['0000000002'])
  })

  test('leaves its arguments unchanged', () => {
    const a = version('a', 1, db(1, 0, { '0000000001': [1, 0, 10] }, { m1: 's' }))
    const b = version('b', 1, db(1, 0, { '0000000001': [2, 0, 20] }, { m1: 'h' }))
    const before = [copy(a), copy(b)]
    mergeContributions([a, b])
    assert.deepEqual([copy(a), copy(b)], before)
  })

  test('of nothing is the empty DB', () => {
    assert.deepEqual(mergeContributions([]), emptyBayesDb())
  })
})

describe('mergeContributions (properties)', () => {
  test('is order-independent: any permutation of the versions gives the same DB', () => {
    const arb = versionsArb.chain(vs => fc.tuple(fc.constant(vs), fc.shuffledSubarray(vs, { minLength: vs.length, maxLength: vs.length })))
    fc.assert(fc.property(arb, ([vs, shuffled]) => {
      assert.deepEqual(mergeContributions(shuffled), mergeContributions(vs))
    }), RUNS)
  })

  test('is grouping-independent: joining groups first, then their joins, gives the same DB', () => {
    fc.assert(fc.property(fc.array(versionsArb, { maxLength: 4 }), (groups) => {
      const joined = groups.map(g => [...joinContributions(g).values()])
      assert.deepEqual(mergeContributions(joined.flat()), mergeContributions(groups.flat()))
      assert.deepEqual(joinContributions(joined.flat()), joinContributions(groups.flat()))
    }), RUNS)
  })

  test('is idempotent: versions received twice count once', () => {
    fc.assert(fc.property(versionsArb, (vs) => {
      assert.deepEqual(mergeContributions([...vs, ...vs]), mergeContributions(vs))
      assert.deepEqual(joinContributions(joinContributions(vs).values()), joinContributions(vs))
    }), RUNS)
  })
})

describe('ownDelta', () => {
  test('takes a new token whole, the growth of a known one, and a token whose atime grew with 0 counts', () => {
    const last = db(5, 5, { '0000000001': [1, 1, 10], '0000000002': [3, 0, 10] })
    const now = db(5, 5, { '0000000001': [4, 2, 12], '0000000002': [3, 0, 11], '00000000aa': [1, 0, 12] })
    assert.deepEqual(ownDelta(now, last).tokens, db(0, 0, {
      '0000000001': [3, 1, 12],
      '0000000002': [0, 0, 11],
      '00000000aa': [1, 0, 12]
    }).tokens)
  })

  test('is empty when nothing changed', () => {
    const d = db(3, 4, { '0000000001': [1, 2, 3] }, { m1: 's' })
    assert.deepEqual(ownDelta(d, copy(d)), emptyBayesDb())
  })

  test('clamps shrunk counts at 0 and leaves out expired tokens', () => {
    const last = db(10, 10, { '0000000001': [5, 5, 10], '0000000002': [1, 1, 10] })
    const now = db(7, 12, { '0000000001': [2, 6, 10] })
    assert.deepEqual(ownDelta(now, last), db(0, 2, { '0000000001': [0, 1, 10] }))
  })

  test('takes new seen ids and ids learned again with the other flag', () => {
    const last = db(0, 0, {}, { m1: 's', m2: 'h' })
    const now = db(0, 0, {}, { m1: 's', m2: 's', m3: 'h' })
    assert.deepEqual(ownDelta(now, last).seen, new Map([['m2', 's'], ['m3', 'h']]))
  })

  test('never has a negative (wrapped) count, whatever the two DBs (properties)', () => {
    fc.assert(fc.property(dbArb, dbArb, (now, last) => {
      const delta = ownDelta(now, last)
      assert.ok(delta.numSpam >= 0 && delta.numHam >= 0)
      const local = rows(now.tokens)
      for (const [token, c] of rows(delta.tokens)) {
        const n = local.get(token) as TokenCounts
        assert.ok(c.spam <= n.spam && c.ham <= n.ham, `${token}: ${JSON.stringify(c)} of ${JSON.stringify(n)}`)
      }
    }), RUNS)
  })

  test('of a local DB that only lost tokens and counts (expiry, forget) adds no count (properties)', () => {
    const arb = dbArb.chain(last => fc.tuple(
      fc.constant(last),
      fc.subarray([...rows(last.tokens).keys()]),
      fc.array(fc.nat(4), { minLength: last.tokens.keys.length, maxLength: last.tokens.keys.length }),
      fc.nat(5),
      fc.nat(5)
    ))
    fc.assert(fc.property(arb, ([last, kept, cuts, lessSpam, lessHam]) => {
      const now = copy(last)
      now.numSpam = Math.max(0, now.numSpam - lessSpam)
      now.numHam = Math.max(0, now.numHam - lessHam)
      const lost = new Map<string, TokenCounts>()
      let i = 0
      for (const [token, c] of rows(last.tokens)) {
        if (kept.includes(token)) lost.set(token, { spam: Math.max(0, c.spam - cuts[i]), ham: Math.max(0, c.ham - cuts[i]), atime: c.atime })
        i++
      }
      now.tokens = tokensOf(lost)
      const delta = ownDelta(now, last)
      assert.equal(delta.numSpam + delta.numHam, 0)
      for (const c of rows(delta.tokens).values()) assert.equal(c.spam + c.ham, 0)
    }), RUNS)
  })
})

describe('addContribution', () => {
  test('sums counts, keeps the newest atime and joins seen ids, the delta\'s flag winning', () => {
    const own = db(2, 1, { '0000000001': [1, 0, 30], '0000000002': [0, 2, 5] }, { m1: 'h', m2: 's' })
    const delta = db(1, 0, { '0000000001': [2, 1, 20], '00000000aa': [1, 0, 7] }, { m1: 's', m3: 'h' })
    assert.deepEqual(addContribution(own, delta), db(3, 1, {
      '0000000001': [3, 1, 30],
      '0000000002': [0, 2, 5],
      '00000000aa': [1, 0, 7]
    }, { m1: 's', m2: 's', m3: 'h' }))
  })

  test('leaves its arguments unchanged', () => {
    const own = db(2, 1, { '0000000001': [1, 0, 30] }, { m1: 'h' })
    const delta = db(1, 0, { '0000000001': [2, 1, 20] }, { m1: 's' })
    const before = [copy(own), copy(delta)]
    addContribution(own, delta)
    assert.deepEqual([copy(own), copy(delta)], before)
  })

  test('with an empty delta changes nothing (properties)', () => {
    fc.assert(fc.property(dbArb, (own) => {
      assert.deepEqual(addContribution(own, emptyBayesDb()), own)
    }), RUNS)
  })
})

// A cluster simulated with the functions above, as the agent will use them: each scan adds the
// node's delta to its own contribution (revision + 1) and uploads it; the master merges the
// latest version of every node; every node that is online applies the merged DB and takes it as
// its baseline.

/** One message as sa-learn learns it: each token's count goes up, and num_spam or num_nonspam. */
interface Message {
  msgid: string
  spam: boolean
  atime: number
  tokens: Array<[string, number]>
}

/** `d` after learning `m` (a new DB; d is left alone). */
function learn (d: BayesDb, m: Message): BayesDb {
  const out = copy(d)
  if (m.spam) out.numSpam++
  else out.numHam++
  const tokens = rows(out.tokens)
  for (const [token, count] of m.tokens) {
    const c = tokens.get(token) ?? { spam: 0, ham: 0, atime: 0 }
    tokens.set(token, {
      spam: c.spam + (m.spam ? count : 0),
      ham: c.ham + (m.spam ? 0 : count),
      atime: Math.max(c.atime, m.atime)
    })
  }
  out.tokens = tokensOf(tokens)
  out.seen.set(m.msgid, m.spam ? 's' : 'h')
  return out
}

interface SimNode {
  local: BayesDb
  baseline: BayesDb
  own: NodeContribution
}

class Cluster {
  readonly nodes: SimNode[]
  /** Every version the master received, old ones included (the join keeps the latest). */
  private readonly received: NodeContribution[] = []
  merged: BayesDb = emptyBayesDb()

  constructor (n: number) {
    this.nodes = Array.from({ length: n }, (_, i) => ({
      local: emptyBayesDb(),
      baseline: emptyBayesDb(),
      own: version(`n${i}`, 0, emptyBayesDb())
    }))
  }

  /** Online nodes scan and upload, the master merges, online nodes apply. Returns the merged DB. */
  round (online: (i: number) => boolean = () => true): BayesDb {
    this.nodes.forEach((node, i) => {
      if (!online(i)) return
      const delta = ownDelta(node.local, node.baseline)
      node.own = version(node.own.nodeId, node.own.revision + 1, addContribution(node.own, delta))
      node.baseline = node.local
      this.received.push(node.own)
    })
    this.merged = mergeContributions(this.received)
    this.nodes.forEach((node, i) => {
      if (!online(i)) return
      node.local = this.merged
      node.baseline = this.merged
    })
    return this.merged
  }
}

const tokenCountsArb = fc.uniqueArray(fc.tuple(fc.constantFrom(...TOKENS), fc.integer({ min: 1, max: 3 })), { selector: ([t]) => t, minLength: 1, maxLength: 4 })
/** Messages with distinct msgids: a message is learned once, by one node. */
const messagesArb = fc.array(fc.record({ spam: fc.boolean(), atime: fc.integer({ min: 1, max: 50 }), tokens: tokenCountsArb }), { maxLength: 12 })
  .map(ms => ms.map((m, i): Message => ({ msgid: `${i}@sa_generated`, spam: m.spam, atime: m.atime, tokens: m.tokens })))

/**
 * A schedule of N nodes learning disjoint messages: each message goes to one node and one round;
 * each round has its own set of online nodes (offline ones keep learning locally).
 */
const scheduleArb = fc.integer({ min: 1, max: 4 }).chain(n => fc.record({
  n: fc.constant(n),
  rounds: fc.integer({ min: 1, max: 4 }),
  messages: messagesArb
}).chain(s => fc.record({
  n: fc.constant(s.n),
  messages: fc.constant(s.messages),
  where: fc.array(fc.tuple(fc.nat(s.n - 1), fc.nat(s.rounds - 1)), { minLength: s.messages.length, maxLength: s.messages.length }),
  online: fc.array(fc.array(fc.boolean(), { minLength: s.n, maxLength: s.n }), { minLength: s.rounds, maxLength: s.rounds })
})))

type Schedule = typeof scheduleArb extends fc.Arbitrary<infer S> ? S : never

/** Runs the learning rounds of a schedule, then one round with every node online. */
function play (s: Schedule): Cluster {
  const cluster = new Cluster(s.n)
  s.online.forEach((online, round) => {
    s.messages.forEach((m, k) => {
      const [node, at] = s.where[k]
      if (at === round) cluster.nodes[node].local = learn(cluster.nodes[node].local, m)
    })
    cluster.round(i => online[i])
  })
  cluster.round()
  return cluster
}

describe('Bayes sync through contributions (properties)', () => {
  test('N nodes learning disjoint messages end with the DB of one node that learned them all', () => {
    fc.assert(fc.property(scheduleArb, (s) => {
      const cluster = play(s)
      const reference = s.messages.reduce(learn, emptyBayesDb())
      assert.deepEqual(cluster.merged, reference)
      for (const node of cluster.nodes) assert.deepEqual(node.local, reference)
    }), RUNS)
  })

  test('K more rounds with no learning change nothing and never inflate a count', () => {
    fc.assert(fc.property(scheduleArb, fc.integer({ min: 1, max: 5 }), (s, k) => {
      const cluster = play(s)
      const settled = copy(cluster.merged)
      for (let round = 0; round < k; round++) {
        assert.deepEqual(cluster.round(), settled)
        for (const node of cluster.nodes) assert.deepEqual(node.local, settled)
      }
    }), RUNS)
  })

  test('a node\'s local DB losing tokens and counts (expiry) never makes a merged count negative or smaller', () => {
    const expiryArb = fc.array(fc.tuple(fc.nat(3), fc.subarray(TOKENS), fc.nat(2)), { maxLength: 6 })
    fc.assert(fc.property(scheduleArb, expiryArb, (s, expiries) => {
      const cluster = play(s)
      let before = copy(cluster.merged)
      for (const [who, lost, fewer] of expiries) {
        const node = cluster.nodes[who % s.n]
        const local = copy(node.local)
        const kept = rows(local.tokens)
        for (const token of lost) kept.delete(token)
        local.tokens = tokensOf(kept)
        local.numSpam = Math.max(0, local.numSpam - fewer)
        local.numHam = Math.max(0, local.numHam - fewer)
        node.local = local
        const after = cluster.round()
        assert.ok(after.numSpam >= before.numSpam && after.numHam >= before.numHam)
        const grown = rows(after.tokens)
        for (const [token, c] of rows(before.tokens)) {
          const now = grown.get(token)
          assert.ok(now !== undefined && now.spam >= c.spam && now.ham >= c.ham, `${token}: ${JSON.stringify(c)} -> ${JSON.stringify(now)}`)
        }
        before = copy(after)
      }
    }), RUNS)
  })
})
