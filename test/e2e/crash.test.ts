/**
 * kill -9 at random moments: of a slave while it downloads and applies a large change, and of
 * the master while it receives and merges one. After each kill the settings file is exactly the
 * old or the new version (never a mix, never empty); the restarted agent opens its LevelDB, and
 * the cluster converges with nothing lost. One cluster serves every trial; only the killed
 * process restarts. The random delays come from a seeded generator whose seed is printed
 * (set SPAMSYNC_CRASH_SEED to replay a run).
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readdir } from 'node:fs/promises'
import { Cluster, waitFor, type AgentProcess } from '../helpers/agents.js'

const TRIALS = Number(process.env.SPAMSYNC_CRASH_TRIALS ?? 20)
/** Entries each trial replaces: enough that the apply or merge window lasts a few hundred ms. */
const FRESH = Number(process.env.SPAMSYNC_CRASH_ENTRIES ?? 2000)
const SEED = Number(process.env.SPAMSYNC_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function seeded (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

const pad = (n: number, w: number): string => String(n).padStart(w, '0')

/**
 * The blacklist of change `k`: one kept entry per change so far (so nothing may be lost) and
 * FRESH entries of its own that replace those of change k-1 (so the deletes must hold too).
 * Sorted, which is how an agent renders entries it adds, so it is every node's exact file.
 */
function listText (k: number): string {
  const lines: string[] = []
  for (let i = 0; i <= k; i++) lines.push(`keep-${pad(i, 3)}.example`)
  for (let i = 0; i < FRESH; i++) lines.push(`trial-${pad(k, 3)}-${pad(i, 5)}.example`)
  return lines.sort().join('\n') + '\n'
}

/** The settings files next to the list (temp files of an interrupted write show up here). */
async function strayFiles (a: AgentProcess): Promise<string[]> {
  return (await readdir(a.settingsDir)).filter(f => f.startsWith('.'))
}

/** Bytes the agent has received so far (a busy agent may take a while to answer). */
async function receivedBytes (a: AgentProcess): Promise<number> {
  return (await waitFor('the agent to answer status', async () => await a.status(), 30_000)).bytesReceived
}

/** When the victim's window opens: it is receiving bytes (a download, or an upload it merges). */
async function windowOpens (victim: AgentProcess, receivedBefore: number): Promise<void> {
  await waitFor('the victim to start receiving', async () => {
    const s = await victim.status()
    return s.bytesReceived > receivedBefore || s.transfer?.direction === 'download'
  }, 30_000, 5)
}

/** Who writes the change and who is killed, for a trial (a slave is picked by turns). */
type Pick = (master: AgentProcess, slaves: AgentProcess[], trial: number) => { writer: AgentProcess, victim: AgentProcess }

// Measured: 40 trials took 11 min at load 15-22 on 2 cores (a restart took 2-30 s), hence the margin.
describe('kill -9 during sync', { timeout: 1_800_000 }, () => {
  const random = seeded(SEED)
  let cluster: Cluster
  let agents: AgentProcess[]
  /** The change every node holds now. */
  let change = 0
  const outcomes: string[] = []

  before(async () => {
    console.log(`crash trials: seed ${SEED} (SPAMSYNC_CRASH_SEED=${SEED} replays it), ${TRIALS} trials each, ${FRESH} entries a change`)
    cluster = await Cluster.create()
    agents = await cluster.startAll(3)
    const master = await cluster.waitForOneMaster()
    await master.writeList('blacklist', listText(0))
    await converged(listText(0))
  })
  after(async () => {
    if (outcomes.length > 0) console.log(outcomes.join('\n'))
    await cluster?.cleanup()
  })

  /** Waits until every node's file is exactly `text` and its status counts the entries. */
  async function converged (text: string): Promise<void> {
    const entries = text.split('\n').length - 1
    try {
      await waitFor('every node to hold the change', async () => {
        for (const a of agents) {
          if (await a.readList('blacklist') !== text) return false
          if ((await a.status()).datasets.blacklist.entries !== entries) return false
        }
        return true
      }, 90_000, 200)
    } catch (err) {
      for (const a of agents) console.error(`--- ${a.nodeId} ${(await a.readList('blacklist')).length} bytes\n${JSON.stringify(await a.status().catch((e: Error) => e.message))}\n${a.output.slice(-3000)}`)
      throw err
    }
  }

  /**
   * Measures, without a kill, how long the victim's window lasts: from the first byte it
   * receives until its file holds the change. Kills then land at a uniform random moment in it.
   */
  async function measureWindow (pick: Pick): Promise<number> {
    const master = await cluster.waitForOneMaster()
    const { writer, victim } = pick(master, agents.filter(a => a !== master), 0)
    const next = listText(change + 1)
    const received = await receivedBytes(victim)
    await writer.writeList('blacklist', next)
    await windowOpens(victim, received)
    const opened = Date.now()
    await waitFor('the victim to hold the change', async () => await victim.readList('blacklist') === next, 60_000, 10)
    const ms = Date.now() - opened
    change++
    await converged(next)
    return ms
  }

  async function trials (kind: string, pick: Pick): Promise<void> {
    const windowMs = await measureWindow(pick)
    let landedInside = 0
    for (let trial = 0; trial < TRIALS; trial++) {
      const master = await cluster.waitForOneMaster(agents, 30_000)
      const { writer, victim } = pick(master, agents.filter(a => a !== master), trial)
      const old = listText(change)
      const next = listText(change + 1)
      const received = await receivedBytes(victim)
      await writer.writeList('blacklist', next)
      await windowOpens(victim, received)
      const delay = Math.floor(random() * windowMs)
      await new Promise(resolve => setTimeout(resolve, delay))
      await victim.kill9()

      const text = await victim.readList('blacklist')
      assert.ok(text === old || text === next, `${kind} trial ${trial}: the file after kill -9 is neither the old nor the new version (${text.length} bytes; old ${old.length}, new ${next.length})`)
      if (text === old) landedInside++
      // A restart opens the LevelDB and answers status (start() fails if the agent exits).
      const killed = Date.now()
      await victim.start(victim === agents[0] ? [] : [agents[0].multiaddr])
      const restarted = Date.now()
      change++
      await converged(next)
      outcomes.push(`${kind} trial ${trial}: killed ${delay} ms into a ${windowMs} ms window, file was ${text === old ? 'old' : 'new'}; restart ${restarted - killed} ms, converged ${Date.now() - restarted} ms later`)
      assert.deepEqual(await strayFiles(victim), [], `${kind} trial ${trial}: no temp file is left in the settings folder`)
    }
    console.log(`${kind}: ${TRIALS} kills in a ${windowMs} ms window, ${landedInside} before the file was replaced`)
  }

  test(`kill -9 of a slave while it downloads and applies: ${TRIALS} trials`, async () => {
    await trials('slave apply', (master, slaves, trial) => ({ writer: master, victim: slaves[trial % slaves.length] }))
  })

  test(`kill -9 of the master while it receives and merges an upload: ${TRIALS} trials`, async () => {
    await trials('master merge', (master, slaves, trial) => ({ writer: slaves[trial % slaves.length], victim: master }))
  })
})
