/**
 * Reading one contribution of a Bayes dataset file of version 1 (bayes-codec.ts describes both
 * layouts): files of agents 0.2 and before, from older peers and from this node's own store.
 */
import { allocTokens, tokenHex } from '../crdt/bayes-counters.js'
import { TOKEN_LIMIT, LOW_SPLIT, HIGH_LIMIT, MIN_TOKEN_BYTES, type BayesSection } from './bayes-format.js'
import { indexWidth } from './bayes-write.js'
import { readAtimeDictionary, readSeen, show, type Reader } from './bayes-read.js'

/** Reads and checks one version 1 contribution. */
 
export function readContributionV1 (r: Reader, nodeId: string): BayesSection {
  const buf = r.buf
  const node = `node ${show(nodeId)}`
  const numSpam = r.varint(`${node} numSpam`)
  const numHam = r.varint(`${node} numHam`)
  const n = r.count(`${node} token count`, MIN_TOKEN_BYTES)

  const tokens = allocTokens(n)
  const keys = tokens.keys
  const low = r.pos
  r.pos += 2 * n
  const tokenWhat = `${node} token`
  let previous = 0
  for (let k = 0; k < n; k++) {
    const at = r.pos
    const high = r.varint(tokenWhat)
    if (high >= HIGH_LIMIT) r.fail(`${node} token ${k} is above 40 bits`, at)
    const gap = high * LOW_SPLIT + buf[low + 2 * k] + buf[low + 2 * k + 1] * 256
    if (k > 0 && gap === 0) r.fail(`${node} token ${tokenHex(previous)} repeats (tokens must be strictly ascending)`, at)
    const v = previous + gap
    if (v >= TOKEN_LIMIT) r.fail(`${node} token ${k} is above 40 bits`, at)
    keys[k] = v
    previous = v
  }
  r.column(tokens.spam, `${node} spam count`)
  r.column(tokens.ham, `${node} ham count`)

  const dictAt = r.pos
  const dict = readAtimeDictionary(r, node, n)
  const d = dict.length
  const width = indexWidth(d)
  const base = r.pos
  if (width * n > buf.length - base) r.fail(`truncated: ${node} atime indexes need ${width * n} bytes, ${buf.length - base} remain`)
  const used = new Uint8Array(d)
  let unused = d
  const atimes = tokens.atime
  for (let k = 0; k < n; k++) {
    let index = 0
    for (let p = width - 1; p >= 0; p--) index = index * 256 + buf[base + p * n + k]
    if (index >= d) r.fail(`${node} atime index ${index} of token ${tokenHex(keys[k])} is not below ${d}`, base + k)
    if (used[index] === 0) {
      used[index] = 1
      unused--
    }
    atimes[k] = dict[index]
  }
  if (unused !== 0) r.fail(`${node} has ${unused} atimes that no token uses`, dictAt)
  r.pos = base + width * n

  const seen = readSeen(r, node)
  return { numSpam, numHam, tokens, seen }
}

