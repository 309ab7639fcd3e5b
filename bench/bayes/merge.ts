/** The Bayes benchmark's `merge` phase: CPU time of the merge and of its parts, and archive bytes per token. */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { mergeContributions } from '../../src/crdt/bayes-counters.js'
import { formatSaBackup, parseSaBackup } from '../../src/settings/sa-backup.js'
import { BayesReplica, joinContribution } from '../../src/replica/bayes-replica.js'
import { decodeBayes, encodeBayes, type BayesContribution } from '../../src/archive/bayes-codec.js'
import { buildSettingsArchive } from '../../src/sync/settings-archive.js'
import { StateStore } from '../../src/store/state-store.js'
import { asContributions, generateDbs } from './data.js'
import { type Timed, gc, mb, round, timed } from './measure.js'
import type { BayesBenchOptions } from './options.js'

export interface MergeResult {
  inputTokenRecords: number
  outputTokens: number
  mergeContributions: Timed & { tokensPerSec: number }
  replicaMerge: Timed & { tokensPerSec: number }
  breakdown: Record<string, Timed>
  archive: { oneContributionZipBytes: number, oneContributionBytesPerToken: number, threeContributionsZipBytes: number, threeContributionsBytesPerToken: number, rawCodecBytesPerToken: number }
}

// eslint-disable-next-line max-lines-per-function -- one repetition loop timing every part on the same generated DBs
export async function mergePhase (o: Required<BayesBenchOptions>, root: string): Promise<MergeResult> {
  const dbs = generateDbs(o.tokens, o.overlap, o.messages, o.seed)
  const contribs = asContributions(dbs)
  const bayesContribs: BayesContribution[] = dbs.map((db, i) => ({ nodeId: `node-${i}`, db }))
  const input = dbs.reduce((n, db) => n + db.tokens.keys.length, 0)
  const s: Record<string, number[]> = {}
  const add = (k: string, ms: number): void => { (s[k] ??= []).push(ms) }
  let outputTokens = 0
  const time = async <T>(k: string, f: () => T | Promise<T>): Promise<T> => {
    const t = performance.now()
    const r = await f()
    add(k, performance.now() - t)
    return r
  }
  for (let rep = 0; rep < o.mergeReps; rep++) {
    gc()
    outputTokens = (await time('mergeContributions', () => mergeContributions(contribs))).tokens.keys.length
    gc()
    const dir = join(root, `merge-${rep}`)
    const store = await StateStore.open(dir)
    try {
      const replica = await BayesReplica.load(store, 'bench-node')
      await time('replicaMerge', async () => await replica.merge(bayesContribs))
      await time('replica.merged() [3 contributions -> DB]', async () => await replica.merged())
    } finally {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    }
    gc()
    await time('  part: joinContribution(undefined, c) x3 [shares the table]', () => { for (const c of bayesContribs) joinContribution(undefined, c.db) })
    const enc = await time('  part: encodeBayes(3 contributions)', () => encodeBayes(bayesContribs))
    await time('  part: decodeBayes(3 contributions)', () => decodeBayes(enc.data))
    const dir2 = join(root, `blob-${rep}`)
    const store2 = await StateStore.open(dir2)
    try {
      await time(`  part: LevelDB write of one ${mb(enc.data.byteLength)} MB blob`, async () => await store2.write({ blobs: [{ name: 'bench', value: enc.data }] }))
    } finally {
      await store2.close()
      await rm(dir2, { recursive: true, force: true })
    }
    gc()
    const text = await time('formatSaBackup(1 node DB)', () => formatSaBackup(dbs[0]))
    await time('parseSaBackup(1 node text)', () => parseSaBackup(text, 'bayes.txt'))
    const dir3 = join(root, `scan-${rep}`)
    const store3 = await StateStore.open(dir3)
    try {
      const replica = await BayesReplica.load(store3, 'bench-node')
      await time('BayesReplica.applyScan(1 node DB) [first scan]', async () => await replica.applyScan(dbs[0]))
    } finally {
      await store3.close()
      await rm(dir3, { recursive: true, force: true })
    }
  }
  const meta = { kind: 'full' as const, origin: 'bench', base: null, version: null }
  const one = buildSettingsArchive(meta, new Map(), [bayesContribs[0]]).byteLength
  const three = buildSettingsArchive(meta, new Map(), bayesContribs).byteLength
  const raw = encodeBayes([bayesContribs[0]]).data.byteLength
  const breakdown: Record<string, Timed> = {}
  for (const [k, v] of Object.entries(s)) if (k !== 'mergeContributions' && k !== 'replicaMerge') breakdown[k] = timed(v)
  const mc = timed(s.mergeContributions)
  const rm_ = timed(s.replicaMerge)
  return {
    inputTokenRecords: input,
    outputTokens,
    mergeContributions: { ...mc, tokensPerSec: Math.round(input / mc.medianMs * 1000) },
    replicaMerge: { ...rm_, tokensPerSec: Math.round(input / rm_.medianMs * 1000) },
    breakdown,
    archive: {
      oneContributionZipBytes: one,
      oneContributionBytesPerToken: round(one / dbs[0].tokens.keys.length, 2),
      threeContributionsZipBytes: three,
      threeContributionsBytesPerToken: round(three / input, 2),
      rawCodecBytesPerToken: round(raw / dbs[0].tokens.keys.length, 2)
    }
  }
}
