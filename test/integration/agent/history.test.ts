/**
 * History and rollback across three agents in one process on 127.0.0.1 (mDNS off): the master
 * keeps versions with their counts, and a rollback asked of a slave is carried out by the master
 * as a new version that reaches every node.
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Agent } from '../../../src/agent.js'
import { UnknownVersionError } from '../../../src/errors.js'
import { runCli } from '../../../src/cli/main.js'
import { readControlToken } from '../../../src/http/control-token.js'
import { formatVersion, type Version } from '../../../src/version.js'
import { waitFor } from '../../helpers/agents.js'
import { InProcessCluster, listKeys } from '../../helpers/in-process.js'

async function http (agent: Agent, method: 'GET' | 'POST', path: string): Promise<{ code: number, body: any }> {
  const token = await readControlToken(agent.config.dataDir)
  const res = await fetch(`http://127.0.0.1:${agent.httpPort}${path}`, { method, headers: { authorization: `Bearer ${token ?? ''}` } })
  return { code: res.status, body: await res.json() }
}

/** Versions kept: small, so the test can see the oldest ones go. */
const KEPT = 5

describe('history and rollback on three agents', { timeout: 120_000 }, () => {
  let cluster: InProcessCluster
  const agents: Agent[] = []
  const oneMaster = async (): Promise<Agent> => await cluster.oneMaster()

  async function allHave (list: string, want: string[]): Promise<void> {
    await waitFor(`every node's ${list} is ${want.join(', ')}`, async () => {
      for (const a of agents) if ((await listKeys(a, list)).join() !== want.join()) return false
      return true
    })
  }

  before(async () => {
    cluster = await InProcessCluster.create('history')
    for (let i = 0; i < 3; i++) agents.push(await cluster.start({ historyVersions: KEPT }))
  })

  after(async () => { await cluster?.stop() })

  let target: Version

  test('GET /history lists the versions newest first, with origin, counts and sizes', async () => {
    const master = await oneMaster()
    await writeFile(join(master.config.settingsDir, 'blacklist.txt'), 'a.example\nb.example\n')
    await allHave('blacklist', ['a.example', 'b.example'])
    const { code, body } = await http(master, 'GET', '/history')
    assert.equal(code, 200)
    const newest = body[0]
    assert.equal(newest.origin, master.nodeId)
    assert.equal(newest.counts.blacklist, 2)
    assert.ok(newest.sizes.blacklist > 0)
    assert.deepEqual(newest.version, master.engine.version)
    assert.ok(!Number.isNaN(Date.parse(newest.time)))
    for (let i = 1; i < body.length; i++) assert.ok(body[i].version.seq < body[i - 1].version.seq || body[i].version.term < body[i - 1].version.term)
    target = newest.version
  })

  test('a rollback asked of a slave makes every node hold that version\'s lists, as a new version', async () => {
    const master = await oneMaster()
    const slave = agents.find(a => a !== master)!
    // After the target: b deleted, c added (on a slave, so it travels through the master).
    await writeFile(join(slave.config.settingsDir, 'blacklist.txt'), 'a.example\nc.example\n')
    await allHave('blacklist', ['a.example', 'c.example'])
    const before = master.engine.version
    const { code, body } = await http(slave, 'POST', `/rollback?version=${formatVersion(target)}`)
    assert.equal(code, 200, JSON.stringify(body))
    assert.equal(body.version.term, before.term)
    assert.ok(body.version.seq > before.seq, 'a new version, not a rewrite')
    await allHave('blacklist', ['a.example', 'b.example'])
    const history = (await http(master, 'GET', '/history')).body as any[]
    assert.equal(history[0].origin, `rollback of ${formatVersion(target)}`)
    assert.equal(history[0].counts.blacklist, 2)
    assert.ok(history.some(h => formatVersion(h.version) === formatVersion(target)), 'the rolled-back-to version is still kept')
    assert.ok(history.some(h => h.counts.blacklist === 2 && h.version.seq > target.seq && h.version.seq < body.version.seq), 'the versions in between are still kept')
    await waitFor('all applied the rollback version', () => agents.every(a => formatVersion(a.engine.appliedVersion) === formatVersion(body.version)))
  })

  test('a rollback to an unknown version fails with UnknownVersionError, here and forwarded', async () => {
    const master = await oneMaster()
    const slave = agents.find(a => a !== master)!
    await assert.rejects(master.rollback({ term: 99, seq: 99 }), UnknownVersionError)
    await assert.rejects(slave.rollback({ term: 99, seq: 99 }), UnknownVersionError)
    const { code, body } = await http(slave, 'POST', '/rollback?version=99.99')
    assert.equal(code, 404)
    assert.equal(body.error, 'UnknownVersionError')
    const err: string[] = []
    const exit = await runCli(['rollback', '99.99', '--http-port', String(slave.httpPort), '--data-dir', slave.config.dataDir], { stdout: () => {}, stderr: (t) => { err.push(t) } })
    assert.equal(exit, 1)
    assert.match(err.join(''), /^spamsync: UnknownVersionError: version 99\.99 is not in the master's history\n$/)
  })

  test('only the newest historyVersions versions are kept; an older one cannot be rolled back to', async () => {
    const master = await oneMaster()
    const oldest = (await master.engine.history()).at(-1)!.version
    for (let i = 0; i < KEPT; i++) {
      const before = master.engine.version.seq
      await writeFile(join(master.config.settingsDir, 'whitelist.txt'), `friend${i}@example.com\n`)
      await waitFor(`the master cut version ${before + 1}`, () => master.engine.version.seq > before)
    }
    const history = await master.engine.history()
    assert.equal(history.length, KEPT)
    assert.ok(!history.some(h => formatVersion(h.version) === formatVersion(oldest)))
    await assert.rejects(master.rollback(oldest), UnknownVersionError)
  })

  test('a version after another keeps only what changed since it, and a rollback to it restores every entry', async () => {
    const master = await oneMaster()
    const many = Array.from({ length: 2000 }, (_, i) => `d${i}.example`)
    await writeFile(join(master.config.settingsDir, 'blacklist.txt'), many.join('\n') + '\n')
    await allHave('blacklist', [...many].sort())
    await writeFile(join(master.config.settingsDir, 'blacklist.txt'), [...many, 'one-more.example'].join('\n') + '\n')
    // The version record is written before its snapshot (sync-v1.md): wait for both.
    await waitFor('the master cut the one-line version and wrote its snapshot', async () => {
      const [newest] = await master.engine.history()
      return newest.counts.blacklist === 2001 && newest.sizes.blacklist !== undefined
    })
    const [oneLine, full] = await master.engine.history()
    assert.ok(full.sizes.blacklist > 2000, `the 2000-line version's snapshot: ${full.sizes.blacklist} B`)
    assert.ok(oneLine.sizes.blacklist < 200, `the one-line version's snapshot: ${oneLine.sizes.blacklist} B`)
    await writeFile(join(master.config.settingsDir, 'blacklist.txt'), 'other.example\n')
    await allHave('blacklist', ['other.example'])
    await master.rollback(oneLine.version)
    await allHave('blacklist', [...many, 'one-more.example'].sort())
  })
})
