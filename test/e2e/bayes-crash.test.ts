/**
 * kill -9 of a slave at each step of writing the cluster's Bayes DB to its local store: with
 * bayes.txt written and the import command just started, while the import runs (a part of the
 * DB is in), and after the import finished but before the agent heard so. After each kill the
 * slave restarts, and every node's Bayes DB (bayes.txt on both, the slave's live DB) must hold
 * exactly what the master learned: each token learned 10 times counts 10, never 20 (the
 * written DB taken for what the slave learned) or missing (the write never redone).
 *
 * The slave's "live DB" is a file the export command copies to bayes.txt and the import command
 * copies from it, as `sa-learn --backup` / `--restore` would; the import script picks the kill
 * point from a mode file, so every kill lands exactly where it should.
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, writeFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Cluster, runCli, waitFor, type AgentProcess } from '../helpers/agents.js'

const ATIME = 1700000000
const LEARNED = 10

/** The token learned in round r: newer rounds sort first, so a part of the file holds the newest. */
const token = (r: number): string => (0xffff - r).toString(16).padStart(10, '0')

/** The master's local DB after rounds 0..r: each round's token learned LEARNED times as spam. */
function learnedUpTo (r: number): string {
  const lines = ['v\t3\tdb_version # this must be the first line!!!', `v\t${LEARNED * (r + 1)}\tnum_spam`, 'v\t0\tnum_nonspam']
  for (let i = 0; i <= r; i++) lines.push(`t\t${LEARNED}\t0\t${ATIME}\t${token(i)}`)
  return lines.join('\n') + '\n'
}

/** A backup file as token -> "spam/ham", plus num_spam. */
function countsOf (text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const f = line.split('\t')
    if (f[0] === 't') out[f[4]] = `${f[1]}/${f[2]}`
    if (f[0] === 'v' && f[2] === 'num_spam') out.num_spam = f[1]
  }
  return out
}

function expectedUpTo (r: number): Record<string, string> {
  const out: Record<string, string> = { num_spam: String(LEARNED * (r + 1)) }
  for (let i = 0; i <= r; i++) out[token(i)] = `${LEARNED}/0`
  return out
}

const readText = async (path: string): Promise<string> => await readFile(path, 'utf8').catch(() => '')

/**
 * The slave's import command: copies bayes.txt into the live DB, except at a kill point:
 * `written` kills the agent before anything is imported, `running` imports all lines but the last, says so and waits for the test to kill the agent, `done` imports all, then kills.
 */
function importScript (dir: string): string {
  return `#!/bin/sh
mode=$(cat '${dir}/mode')
agent=$(cat '${dir}/agent.pid')
bayes='${dir}/settings/bayes.txt'
live='${dir}/live.txt'
case "$mode" in
  written) kill -9 "$agent"; exit 1 ;;
  running)
    n=$(wc -l < "$bayes")
    head -n $((n - 1)) "$bayes" > "$live"
    : > '${dir}/import-started'
    while kill -0 "$agent" 2>/dev/null; do sleep 0.05; done
    exit 1 ;;
  done) cp "$bayes" "$live"; kill -9 "$agent"; exit 0 ;;
  *) cp "$bayes" "$live" ;;
esac
`
}

describe('kill -9 of a slave while it writes and imports the cluster\'s Bayes DB', { timeout: 300_000 }, () => {
  let cluster: Cluster
  let master: AgentProcess
  let slave: AgentProcess
  const report: string[] = []

  before(async () => {
    cluster = await Cluster.create('spamsync-e2e-bayes-crash-')
    master = await cluster.add(['--priority', '10', '--bayes-scan-interval-seconds', '0'])
    const dir = join(cluster.root, 'node2')
    slave = await cluster.add([
      '--bayes-scan-interval-seconds', '0',
      '--bayes-export-command', `if [ -f '${dir}/live.txt' ]; then cp '${dir}/live.txt' '${dir}/settings/bayes.txt'; fi`,
      '--bayes-import-command', `sh '${dir}/import.sh'`
    ])
    assert.equal(slave.dir, dir)
    await writeFile(join(dir, 'import.sh'), importScript(dir))
    await writeFile(join(dir, 'mode'), 'normal')
    await writeFile(join(master.settingsDir, 'bayes.txt'), learnedUpTo(0))
    await master.start()
    await startSlave()
    await learnOnMaster(0)
    await converged(0)
  })
  after(async () => {
    if (report.length > 0) console.log(report.join('\n'))
    await cluster?.cleanup()
  })

  async function startSlave (): Promise<void> {
    await slave.start([master.multiaddr])
    await writeFile(join(slave.dir, 'agent.pid'), String(slave.proc?.pid))
    await cluster.waitForOneMaster([master, slave])
  }

  /** The master learns round r's token and scans it (a new central version, which the slave fetches). */
  async function learnOnMaster (r: number): Promise<void> {
    await writeFile(join(master.settingsDir, 'bayes.txt'), learnedUpTo(r))
    const sync = runCli(['sync', '--http-port', String(master.httpPort), '--data-dir', master.dataDir])
    assert.equal(sync.code, 0, sync.stderr)
  }

  /**
   * Uploads what the slave holds as its own (nothing, unless it took the written DB for learning),
   * waits until it applied the master's newest version, then checks every copy of the DB.
   */
  async function converged (r: number): Promise<void> {
    const sync = runCli(['sync', '--http-port', String(slave.httpPort), '--data-dir', slave.dataDir])
    assert.equal(sync.code, 0, sync.stderr)
    await waitFor('the slave to apply the master\'s newest version', async () => {
      const [m, s] = [await master.status(), await slave.status()]
      return m.version.term === s.appliedVersion.term && m.version.seq === s.appliedVersion.seq
    }, 30_000)
    const expected = expectedUpTo(r)
    assert.deepEqual(countsOf(await readText(join(master.settingsDir, 'bayes.txt'))), expected, 'the master\'s merged DB')
    assert.deepEqual(countsOf(await readText(join(slave.settingsDir, 'bayes.txt'))), expected, 'the slave\'s bayes.txt')
    assert.deepEqual(countsOf(await readText(join(slave.dir, 'live.txt'))), expected, 'the slave\'s live DB')
    assert.equal((await master.status()).datasets.bayes.contributors, 1, 'only the master learned anything')
  }

  /** Waits until the slave's process is gone (the import script killed it). */
  async function exited (a: AgentProcess): Promise<void> {
    await waitFor('the agent to be killed', () => a.proc !== null && (a.proc.exitCode !== null || a.proc.signalCode !== null), 30_000, 20)
  }

  const points = [
    { mode: 'written', what: 'bayes.txt written, import command started, nothing imported' },
    { mode: 'running', what: 'import command running, all but the last line imported' },
    { mode: 'done', what: 'import command done, the agent not told' }
  ]
  points.forEach(({ mode, what }, i) => {
    test(`kill at: ${what}`, async () => {
      const r = i + 1
      await writeFile(join(slave.dir, 'mode'), mode)
      await learnOnMaster(r)
      if (mode === 'running') {
        await waitFor('the import to start', async () => await readFile(join(slave.dir, 'import-started')).then(() => true, () => false), 30_000, 20)
        await slave.kill9()
        await rm(join(slave.dir, 'import-started'))
      } else {
        await exited(slave)
      }
      const atKill = countsOf(await readText(join(slave.dir, 'live.txt')))[token(r)] ?? 'absent'
      await writeFile(join(slave.dir, 'mode'), 'normal')
      await startSlave()
      await converged(r)
      report.push(`kill at "${what}": new token in the slave's live DB at the kill: ${atKill}; after restart every node counts it ${LEARNED}/0`)
    })
  })
})
