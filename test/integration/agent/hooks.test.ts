/**
 * The afterApply hook on two agents in one process: it runs once per change on every node (the
 * one where the edit was made included) with the changed files in SPAMSYNC_CHANGED_FILES (lists
 * and bayes.txt), never on a sync that changed nothing, does not hold up the
 * next apply while it runs, and a failure shows in status while the sync stays.
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, rm, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent } from '../../../src/agent.js'
import { generateClusterKey, writeClusterKey } from '../../../src/net/cluster-key.js'
import { waitFor } from '../../helpers/agents.js'
import { testAgentConfig } from '../../helpers/in-process.js'

/** A one-token Bayes DB in `sa-learn --backup` form. */
const BACKUP = 'v\t3\tdb_version # this must be the first line!!!\nv\t1\tnum_spam\nv\t0\tnum_nonspam\nt\t1\t0\t1028421475\t004c4d6455\ns\ts\tabc@sa_generated\n'

describe('hooks.afterApply on two agents', { timeout: 120_000 }, () => {
  let root: string
  const agents: Agent[] = []

  /** The hook's log: one line per run, the value of SPAMSYNC_CHANGED_FILES. */
  const hookLog = (agent: Agent): string => join(agent.config.dataDir, '..', 'hook.log')
  async function runs (agent: Agent): Promise<string[]> {
    const text = await readFile(hookLog(agent), 'utf8').catch(() => '')
    return text.split('\n').filter(l => l !== '')
  }

  async function startAgent (i: number, bootstrap: string[]): Promise<Agent> {
    const dir = join(root, `n${i}`)
    const settingsDir = join(dir, 'settings')
    await mkdir(settingsDir, { recursive: true })
    // Files as `spamsync init` leaves them, so the start itself writes nothing.
    for (const list of ['whitelist', 'blacklist', 'autowhitelist']) await writeFile(join(settingsDir, `${list}.txt`), `# ${list}\n`)
    // Logs first, then the switches of the test: `hold` keeps the hook running until the test
    // removes it, `fail` makes it exit 7.
    const hook = `printf '%s\\n' "$SPAMSYNC_CHANGED_FILES" >> '${join(dir, 'hook.log')}'; ` +
      `while [ -e '${join(root, 'hold')}' ]; do sleep 0.05; done; ` +
      `if [ -e '${join(root, 'fail')}' ]; then echo 'reload failed' >&2; exit 7; fi`
    return await Agent.start(testAgentConfig(dir, join(root, 'cluster.key'), bootstrap, { hooksAfterApply: hook, hooksTimeoutSeconds: 10 }))
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'spamsync-hooks-'))
    await writeClusterKey(join(root, 'cluster.key'), generateClusterKey())
    agents.push(await startAgent(0, []))
    agents.push(await startAgent(1, agents[0].status().listen))
  })

  after(async () => {
    for (const a of agents) await a.stop().catch(() => {})
    await rm(root, { recursive: true, force: true })
  })

  async function roles (): Promise<{ master: Agent, slave: Agent }> {
    const master = await waitFor('one master followed by the other', () => {
      const m = agents.find(a => a.election.role === 'master')
      const s = agents.find(a => a.election.role === 'slave')
      return m !== undefined && s !== undefined && s.election.masterId === m.nodeId ? m : null
    })
    const slave = agents.find(a => a !== master)!
    await waitFor('the slave applied the master version', () => slave.engine.appliedVersion.seq === master.engine.version.seq && slave.engine.appliedVersion.term === master.engine.version.term)
    return { master, slave }
  }

  async function hasLine (agent: Agent, list: string, key: string): Promise<boolean> {
    const text = await readFile(join(agent.config.settingsDir, `${list}.txt`), 'utf8').catch(() => '')
    return text.split('\n').some(l => l.split(/\s+/)[0] === key)
  }

  async function addLine (agent: Agent, list: string, key: string): Promise<void> {
    const file = join(agent.config.settingsDir, `${list}.txt`)
    await writeFile(file, (await readFile(file, 'utf8')) + `${key}\n`)
  }

  /**
   * A later change on the master (a new whitelist key), and the slave's runs once the hook ran
   * for it: a run that was still to come for anything before would be in them by then.
   */
  async function runsAfterLaterChange (master: Agent, slave: Agent, key: string): Promise<string[]> {
    const before = (await runs(slave)).length
    await addLine(master, 'whitelist', key)
    const whitelist = join(slave.config.settingsDir, 'whitelist.txt')
    await waitFor(`the slave hook ran for ${key}`, async () => (await runs(slave)).slice(before).includes(whitelist))
    return await runs(slave)
  }

  test('a start that changes no file runs no hook', async () => {
    await roles()
    for (const a of agents) assert.deepEqual(await runs(a), [])
  })

  test('a change runs the hook once on each node, the one where the edit was made included, naming that file', async () => {
    const { master, slave } = await roles()
    await addLine(master, 'blacklist', 'spam1.example.com')
    await waitFor('the slave has the line', async () => await hasLine(slave, 'blacklist', 'spam1.example.com'))
    const logged = await waitFor('the slave hook ran', async () => { const r = await runs(slave); return r.length > 0 ? r : null })
    assert.deepEqual(logged, [join(slave.config.settingsDir, 'blacklist.txt')])
    // The operator's edit runs the hook where it was made too, so that server's maps are rebuilt.
    assert.deepEqual(await waitFor('the master hook ran', async () => { const r = await runs(master); return r.length > 0 ? r : null }), [join(master.config.settingsDir, 'blacklist.txt')])
    assert.deepEqual(await runsAfterLaterChange(master, slave, 'later1@example.com'),
      [join(slave.config.settingsDir, 'blacklist.txt'), join(slave.config.settingsDir, 'whitelist.txt')], 'exactly one run for one change')
  })

  test('a sync that brings nothing new runs no hook', async () => {
    const { master, slave } = await roles()
    const before = await runs(slave)
    await slave.engine.syncDownload()
    await slave.engine.syncUpload()
    assert.deepEqual(await runsAfterLaterChange(master, slave, 'later2@example.com'), [...before, join(slave.config.settingsDir, 'whitelist.txt')])
  })

  test('a sync that rewrote bayes.txt runs the hook with that file', async () => {
    const { master, slave } = await roles()
    const before = (await runs(slave)).length
    await writeFile(join(master.config.settingsDir, 'bayes.txt'), BACKUP)
    assert.ok(await master.engine.bayesChanged() > 0)
    const logged = await waitFor('the slave hook ran for bayes.txt', async () => { const r = await runs(slave); return r.length > before ? r.slice(before) : null })
    assert.deepEqual(logged, [join(slave.config.settingsDir, 'bayes.txt')])
  })

  test('a running hook does not hold up the next apply; the changes meanwhile give one more run', async (t) => {
    const { master, slave } = await roles()
    const hold = join(root, 'hold')
    await writeFile(hold, '')
    t.after(async () => { await rm(hold, { force: true }) })
    const before = (await runs(slave)).length
    await addLine(master, 'blacklist', 'spam2.example.com')
    await waitFor('the held hook started', async () => (await runs(slave)).length === before + 1)
    await addLine(master, 'whitelist', 'friend@example.com')
    await addLine(master, 'autowhitelist', 'auto@example.com')
    // The hook runs until the test lets it go: the slave applies while it runs.
    await waitFor('the slave applied the changes while the hook ran', async () =>
      await hasLine(slave, 'whitelist', 'friend@example.com') && await hasLine(slave, 'autowhitelist', 'auto@example.com'))
    assert.equal((await runs(slave)).length, before + 1, 'no second run while the first one runs')
    await rm(hold)
    const second = await waitFor('the second run', async () => { const r = await runs(slave); return r.length === before + 2 ? r.at(-1) : null }, 15_000)
    assert.equal(second, [join(slave.config.settingsDir, 'autowhitelist.txt'), join(slave.config.settingsDir, 'whitelist.txt')].join(' '), 'one run with the union of the files')
    const all = await runsAfterLaterChange(master, slave, 'later3@example.com')
    assert.deepEqual(all.slice(before + 2), [join(slave.config.settingsDir, 'whitelist.txt')], 'no pile-up of runs')
  })

  test('a failing hook shows in status and the sync stays', async (t) => {
    const { master, slave } = await roles()
    await writeFile(join(root, 'fail'), '')
    t.after(async () => { await rm(join(root, 'fail'), { force: true }) })
    await addLine(master, 'blacklist', 'spam3.example.com')
    const error = await waitFor('the hook failure in status', () => (slave.status().errors as Array<{ what: string, message: string }>).find(e => e.what === 'hook afterApply'))
    assert.match(error.message, /exited with 7/)
    assert.match(error.message, /reload failed/)
    assert.ok(await hasLine(slave, 'blacklist', 'spam3.example.com'), 'the settings file keeps the new line')
    assert.equal(slave.engine.appliedVersion.seq, master.engine.version.seq, 'the applied version stays')
  })
})
