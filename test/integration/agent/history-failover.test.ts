/**
 * The history outlives its master: three agents in one process on 127.0.0.1 (mDNS off). Every
 * node keeps the records that came with its syncs and the content of each version it applied, so
 * when the master stops and its data folder is gone, the new master lists the same versions,
 * continues them in its own term, and rolls back to one the old master cut.
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Agent } from '../../../src/agent.js'
import { runCli } from '../../../src/cli/main.js'
import { readControlToken } from '../../../src/http/control-token.js'
import { compareVersions, formatVersion, type Version } from '../../../src/version.js'
import { waitFor } from '../../helpers/agents.js'
import { InProcessCluster, listKeys } from '../../helpers/in-process.js'

async function http (agent: Agent, method: 'GET' | 'POST', path: string): Promise<{ code: number, body: any }> {
  const token = await readControlToken(agent.config.dataDir)
  const res = await fetch(`http://127.0.0.1:${agent.httpPort}${path}`, { method, headers: { authorization: `Bearer ${token ?? ''}` } })
  return { code: res.status, body: await res.json() }
}

async function cli (agent: Agent, args: string[]): Promise<{ exit: number, out: string, err: string }> {
  const out: string[] = []
  const err: string[] = []
  const exit = await runCli([...args, '--http-port', String(agent.httpPort), '--data-dir', agent.config.dataDir], { stdout: (t) => { out.push(t) }, stderr: (t) => { err.push(t) } })
  return { exit, out: out.join(''), err: err.join('') }
}

/** A history record as every node must agree on it (this node's snapshot sizes left out). */
const shared = (item: any): unknown => ({ version: item.version, time: item.time, origin: item.origin, name: item.name, counts: item.counts, changes: item.changes })

describe('history across a master change', { timeout: 120_000 }, () => {
  let cluster: InProcessCluster
  let old: Agent
  let survivors: Agent[]
  let first: Version
  let second: Version

  async function allHave (agents: Agent[], want: string[]): Promise<void> {
    await waitFor(`every node's blacklist is ${want.join(', ')}`, async () => {
      for (const a of agents) if ((await listKeys(a, 'blacklist')).join() !== want.join()) return false
      return true
    })
  }

  before(async () => {
    cluster = await InProcessCluster.create('history-failover')
    old = await cluster.start({ name: 'mx1', priority: 10 })
    survivors = [await cluster.start({ name: 'mx2' }), await cluster.start({ name: 'mx3' })]
    assert.equal(await cluster.oneMaster(), old)
  })

  after(async () => { await cluster?.stop() })

  test('every node lists the versions the master cut, with who made them and what they changed', async () => {
    await writeFile(join(old.config.settingsDir, 'blacklist.txt'), 'a.example\nb.example\n')
    await allHave([old, ...survivors], ['a.example', 'b.example'])
    first = old.engine.version
    await writeFile(join(survivors[0].config.settingsDir, 'blacklist.txt'), 'a.example\nc.example reason\n')
    await allHave([old, ...survivors], ['a.example', 'c.example'])
    second = old.engine.version
    const master = (await http(old, 'GET', '/history')).body as any[]
    const byVersion = (items: any[], v: Version): any => items.find(i => formatVersion(i.version) === formatVersion(v))
    assert.equal(byVersion(master, first).name, 'mx1')
    assert.deepEqual(byVersion(master, first).changes.lists.blacklist, { added: 2, removed: 0, changed: 0, keys: [{ key: 'a.example', kind: 'added', value: '' }, { key: 'b.example', kind: 'added', value: '' }] })
    assert.equal(byVersion(master, second).name, 'mx2', 'the version is named for the node whose upload made it')
    assert.deepEqual(byVersion(master, second).changes.lists.blacklist, { added: 1, removed: 1, changed: 0, keys: [{ key: 'b.example', kind: 'removed', old: '' }, { key: 'c.example', kind: 'added', value: 'reason' }] })
    for (const s of survivors) {
      await waitFor(`${s.config.name} holds both versions' records`, async () => {
        const items = (await http(s, 'GET', '/history')).body as any[]
        return [first, second].every(v => byVersion(items, v) !== undefined && JSON.stringify(shared(byVersion(items, v))) === JSON.stringify(shared(byVersion(master, v))))
      })
      assert.equal((await http(s, 'GET', `/history/${formatVersion(first)}`)).body.restorable, true, 'a slave keeps the content of a version it applied')
    }
  })

  test('when the master dies with its disk, the new master serves the same history and continues it in its term', async () => {
    const before = ((await http(survivors[0], 'GET', '/history')).body as any[]).map(shared)
    await old.stop()
    await rm(old.config.dataDir, { recursive: true, force: true })
    const master = await cluster.oneMaster(survivors)
    const items = (await http(master, 'GET', '/history')).body as any[]
    assert.ok(compareVersions(items[0].version, second) > 0 && items[0].version.term > second.term, 'the new master cut its first version in a new term')
    for (const item of before) assert.ok(items.some(i => JSON.stringify(shared(i)) === JSON.stringify(item)), `${formatVersion((item as any).version)} is still listed`)
  })

  test('rollback --dry-run on the new master prints what would change and changes nothing', async () => {
    const master = await cluster.oneMaster(survivors)
    const slave = survivors.find(a => a !== master)!
    const version = master.engine.version
    const fileBefore = await readFile(join(slave.config.settingsDir, 'blacklist.txt'), 'utf8')
    const r = await cli(slave, ['rollback', formatVersion(first), '--dry-run'])
    assert.equal(r.exit, 0, r.err)
    assert.equal(r.out, [
      `a rollback to ${formatVersion(first)} would change (dry run, nothing was changed):`,
      'blacklist: 1 added, 1 removed, 0 changed',
      '  + b.example',
      '  - c.example (was reason)',
      ''
    ].join('\n'))
    assert.deepEqual(master.engine.version, version, 'no new version')
    assert.equal(await readFile(join(slave.config.settingsDir, 'blacklist.txt'), 'utf8'), fileBefore)
  })

  test('a rollback to a version the old master cut runs on the new master, prints what it changed and reaches every node', async () => {
    const master = await cluster.oneMaster(survivors)
    const slave = survivors.find(a => a !== master)!
    const r = await cli(slave, ['rollback', formatVersion(first)])
    assert.equal(r.exit, 0, r.err)
    assert.match(r.out, new RegExp(`^rolled the lists back to ${formatVersion(first).replace('.', '\\.')}: new central version ${master.engine.version.term}\\.\\d+ \\(the Bayes DB is not rolled back\\)\nblacklist: 1 added, 1 removed, 0 changed\n  \\+ b\\.example\n  - c\\.example \\(was reason\\)\n$`))
    await allHave(survivors, ['a.example', 'b.example'])
    const newest = (await http(master, 'GET', '/history')).body[0]
    assert.equal(newest.origin, `rollback of ${formatVersion(first)}`)
    assert.deepEqual(newest.changes.lists.blacklist.keys.map((k: any) => `${k.kind} ${k.key}`), ['added b.example', 'removed c.example'])
  })

  test('history and history --show print who, when and what changed', async () => {
    const master = await cluster.oneMaster(survivors)
    const list = await cli(master, ['history'])
    assert.equal(list.exit, 0, list.err)
    assert.match(list.out, /^VERSION +TIME +FROM +CHANGES\n/)
    assert.match(list.out, new RegExp(`\n${formatVersion(second).replace('.', '\\.')} +\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ +mx2 +blacklist \\+1 -1 ~0\n`))
    const show = await cli(master, ['history', '--show', formatVersion(second)])
    assert.equal(show.exit, 0, show.err)
    assert.match(show.out, new RegExp(`^version ${formatVersion(second).replace('.', '\\.')}, \\S+Z, from mx2 \\(12D3\\w+\\)\nblacklist: 1 added, 1 removed, 0 changed\n  - b\\.example\n  \\+ c\\.example reason\n`))
    const unknown = await cli(master, ['history', '--show', '99.99'])
    assert.equal(unknown.exit, 1)
    assert.match(unknown.err, /^spamsync: UnknownVersionError: version 99\.99 is not in this node's history\n$/)
  })
})
