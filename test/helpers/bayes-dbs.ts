/** Bayes DBs and contributions for the CRDT's tests: literal builders and fast-check arbitraries. */
import fc from 'fast-check'
import { tokenEntries, tokensOf, type BayesDb, type NodeContribution, type SeenFlag, type TokenCounts, type TokenTable } from '../../src/crdt/bayes-counters.js'

export const RUNS = { numRuns: 1000 }

/** A DB from plain values: token -> [spam, ham, atime], msgid -> flag. */
export function db (numSpam: number, numHam: number, tokens: Record<string, [number, number, number]>, seen: Record<string, SeenFlag> = {}): BayesDb {
  return {
    numSpam,
    numHam,
    tokens: tokensOf(Object.entries(tokens).map(([t, [spam, ham, atime]]) => [t, { spam, ham, atime }])),
    seen: new Map(Object.entries(seen))
  }
}

/** A table's rows as a map token -> counts, to read and change them in a test. */
export function rows (t: TokenTable): Map<string, TokenCounts> {
  return new Map(tokenEntries(t))
}

export function version (nodeId: string, revision: number, contribution: BayesDb): NodeContribution {
  return { ...contribution, nodeId, revision }
}

/** A deep copy, to check that a function left its arguments alone. */
export function copy (d: BayesDb): BayesDb {
  const t = d.tokens
  return { numSpam: d.numSpam, numHam: d.numHam, tokens: { keys: t.keys.slice(), spam: t.spam.slice(), ham: t.ham.slice(), atime: t.atime.slice() }, seen: new Map(d.seen) }
}

// Small alphabets, so that tokens, msgids, nodes and revisions collide.
export const TOKENS = ['0000000001', '0000000002', '00000000aa', '0a0b0c0d0e', 'ffffffffff']
export const MSGIDS = ['m1@sa_generated', 'm2@sa_generated', 'm3@sa_generated']
// (The maps give plain objects: fast-check records have a null prototype, which deepEqual tells apart.)
export const countsArb: fc.Arbitrary<TokenCounts> = fc.tuple(fc.nat(4), fc.nat(4), fc.nat(5)).map(([spam, ham, atime]) => ({ spam, ham, atime }))
export const dbArb: fc.Arbitrary<BayesDb> = fc.record({
  numSpam: fc.nat(5),
  numHam: fc.nat(5),
  tokens: fc.array(fc.tuple(fc.constantFrom(...TOKENS), countsArb), { maxLength: 6 }),
  seen: fc.array(fc.tuple(fc.constantFrom(...MSGIDS), fc.constantFrom<SeenFlag>('s', 'h')), { maxLength: 3 })
}).map(r => ({ numSpam: r.numSpam, numHam: r.numHam, tokens: tokensOf(new Map(r.tokens)), seen: new Map(r.seen) }))
export const versionArb: fc.Arbitrary<NodeContribution> = fc.tuple(fc.constantFrom('n1', 'n2', 'n3'), fc.nat(3), dbArb)
  .map(([nodeId, revision, d]) => version(nodeId, revision, d))
export const versionsArb = fc.array(versionArb, { maxLength: 8 })
