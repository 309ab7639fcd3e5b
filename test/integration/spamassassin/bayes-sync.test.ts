/**
 * The promise of Bayes sync, checked with the real `sa-learn`: three agents whose SpamAssassin
 * DBs each learned a different part of the public corpus end with exactly the DB of one oracle
 * that learned all of it; more sync rounds change nothing; 10 more messages learned on one node
 * reach every node exactly once.
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent } from '../../../src/agent.js'
import { defaultConfig } from '../../../src/config.js'
import { generateClusterKey, writeClusterKey } from '../../../src/net/cluster-key.js'
import { compareVersions } from '../../../src/version.js'
import { waitFor } from '../../helpers/agents.js'
import { backup, corpusMessages, learn, parseBackupForCompare, saArgs, saLearnPath, SA_SKIP_REASON, type ComparableBackup } from '../../helpers/spamassassin.js'

const quote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`

/** The shell command that runs sa-learn on one node's DB, as an operator would configure it. */
function saCommand (dbpath: string, args: string): string {
  return `HOME=${quote(join(dbpath, 'sa-home'))} TZ=UTC LC_ALL=C ${quote(saLearnPath()!)} ${saArgs(dbpath).map(quote).join(' ')} ${args}`
}

function sameDb (a: ComparableBackup, b: ComparableBackup): string | null {
  if (a.magic.numSpam !== b.magic.numSpam || a.magic.numHam !== b.magic.numHam) return `magic ${a.magic.numSpam}/${a.magic.numHam} vs ${b.magic.numSpam}/${b.magic.numHam}`
  if (a.tokens.size !== b.tokens.size) return `${a.tokens.size} vs ${b.tokens.size} tokens`
  for (const [t, v] of a.tokens) if (b.tokens.get(t) !== v) return `token ${t}: ${v} vs ${b.tokens.get(t)}`
  if (a.seen.size !== b.seen.size) return `${a.seen.size} vs ${b.seen.size} seen ids`
  for (const [id, f] of a.seen) if (b.seen.get(id) !== f) return `seen ${id}`
  return null
}

const skip = saLearnPath() === null ? SA_SKIP_REASON : false

describe('Bayes sync with real sa-learn', { skip, timeout: 600_000 }, () => {
  let root: string
  const agents: Agent[] = []
  const dbs: string[] = []
  // Three disjoint parts of the corpus, 12 spam + 12 ham each, and 10 more spam for later.
  const spam = corpusMessages('spam-2').slice(0, 46)
  const ham = corpusMessages('easy-ham-2').slice(0, 36)
  const part = (i: number): { spam: string[], ham: string[] } => ({ spam: spam.slice(i * 12, i * 12 + 12), ham: ham.slice(i * 12, i * 12 + 12) })
  const later = spam.slice(36, 46)

  async function allEqual (oracle: ComparableBackup): Promise<void> {
    let last = ''
    try {
      await waitFor('every node to hold the oracle DB', async () => {
        for (const db of dbs) {
          const diff = sameDb(parseBackupForCompare(await backup(db)), oracle)
          if (diff !== null) { last = diff; return false }
        }
        return true
      }, 120_000, 1000)
    } catch (err) {
      throw new Error(`${(err as Error).message}; last difference: ${last}`, { cause: err })
    }
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'spamsync-bayes-'))
    const keyFile = join(root, 'cluster.key')
    await writeClusterKey(keyFile, generateClusterKey())
    for (let i = 0; i < 3; i++) {
      const db = join(root, `sa${i}`)
      dbs.push(db)
      await learn(db, part(i).spam, 'spam')
      await learn(db, part(i).ham, 'ham')
    }
    for (let i = 0; i < 3; i++) {
      const settingsDir = join(root, `n${i}`, 'settings')
      await mkdir(settingsDir, { recursive: true })
      const bayesFile = join(settingsDir, 'bayes.txt')
      agents.push(await Agent.start({
        ...defaultConfig(),
        dataDir: join(root, `n${i}`, 'data'),
        settingsDir,
        clusterKey: keyFile,
        listen: ['/ip4/127.0.0.1/tcp/0'],
        bootstrap: i === 0 ? [] : agents[0].status().listen,
        mdns: false,
        httpPort: 0,
        logLevel: 'silent',
        bayesExportCommand: `${saCommand(dbs[i], '--backup')} > ${quote(bayesFile)}`,
        bayesImportCommand: saCommand(dbs[i], `--restore ${quote(bayesFile)}`),
        bayesScanIntervalSeconds: 0
      }))
    }
  })

  after(async () => {
    for (const a of agents) await a.stop().catch(() => {})
    await rm(root, { recursive: true, force: true })
  })

  async function syncRound (): Promise<void> {
    for (const a of agents) {
      await a.engine.bayesChanged()
      await a.engine.syncUpload()
    }
  }

  test('three nodes that learned disjoint mail end with the DB of one node that learned it all', async () => {
    const oracle = join(root, 'oracle')
    for (let i = 0; i < 3; i++) {
      await learn(oracle, part(i).spam, 'spam')
      await learn(oracle, part(i).ham, 'ham')
    }
    const want = parseBackupForCompare(await backup(oracle))
    assert.equal(want.magic.numSpam, 36)
    assert.equal(want.magic.numHam, 36)
    await waitFor('one master', () => agents.filter(a => a.election.role === 'master').length === 1 && agents.every(a => a.election.role !== 'candidate'))
    await syncRound()
    await allEqual(want)
  })

  test('two more sync rounds with no learning change nothing', async () => {
    const before = await Promise.all(dbs.map(async db => parseBackupForCompare(await backup(db))))
    await syncRound()
    await syncRound()
    // Past every write the rounds could start: each node applied the master's version and its queue is empty.
    const master = agents.find(a => a.election.role === 'master')!
    await waitFor('every node at the master\'s version', () => agents.every(a => compareVersions(a.engine.appliedVersion, master.engine.version) === 0))
    for (const a of agents) await a.engine.drain()
    for (const [i, db] of dbs.entries()) assert.equal(sameDb(parseBackupForCompare(await backup(db)), before[i]), null)
  })

  test('ten more messages learned on one node change every node by exactly those', async () => {
    const oracle = join(root, 'oracle')
    await learn(oracle, later, 'spam')
    const want = parseBackupForCompare(await backup(oracle))
    assert.equal(want.magic.numSpam, 46)
    await learn(dbs[1], later, 'spam')
    await syncRound()
    await allEqual(want)
  })
})
