/**
 * The Bayes export/import commands as an operator configures them: a failing or hanging one is
 * reported in status with its exit code and stderr tail, and the last good state stays.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent } from '../../../src/agent.js'
import { defaultConfig, type Config } from '../../../src/config.js'
import { generateClusterKey, writeClusterKey } from '../../../src/net/cluster-key.js'

const BACKUP = 'v\t3\tdb_version # this must be the first line!!!\nv\t1\tnum_spam\nv\t0\tnum_nonspam\nt\t1\t0\t1028421475\t004c4d6455\ns\ts\tabc@sa_generated\n'

async function agentWith (t: any, bayes: Partial<Config>): Promise<Agent> {
  const root = await mkdtemp(join(tmpdir(), 'spamsync-bcmd-'))
  const keyFile = join(root, 'cluster.key')
  await writeClusterKey(keyFile, generateClusterKey())
  const settingsDir = join(root, 'settings')
  await mkdir(settingsDir, { recursive: true })
  await writeFile(join(settingsDir, 'bayes.txt'), BACKUP)
  const agent = await Agent.start({
    ...defaultConfig(), dataDir: join(root, 'data'), settingsDir, clusterKey: keyFile, listen: ['/ip4/127.0.0.1/tcp/0'],
    mdns: false, httpPort: 0, logLevel: 'silent', bayesScanIntervalSeconds: 0, ...bayes
  })
  t.after(async () => { await agent.stop(); await rm(root, { recursive: true, force: true }) })
  return agent
}

test('without commands, bayes.txt is read as the local DB', async (t) => {
  const agent = await agentWith(t, {})
  assert.equal(agent.status().datasets && (agent.status().datasets as any).bayes.contributors, 1)
})

test('a failing export command is reported with its exit code and stderr tail, and nothing is taken from the file', async (t) => {
  const agent = await agentWith(t, { bayesExportCommand: 'echo "no such database" >&2; exit 3' })
  assert.equal(await agent.engine.bayesChanged(), 0)
  const errors = agent.status().errors as Array<{ what: string, message: string }>
  const e = errors.find(x => x.what === 'bayes export')
  assert.ok(e !== undefined, JSON.stringify(errors))
  assert.match(e.message, /exited with 3/)
  assert.match(e.message, /no such database/)
  assert.equal((agent.status().datasets as any).bayes.contributors, 0)
})

test('a hanging export command is killed at the time limit and reported', async (t) => {
  const pidDir = await mkdtemp(join(tmpdir(), 'spamsync-bcmd-pid-'))
  t.after(async () => { await rm(pidDir, { recursive: true, force: true }) })
  const pidFile = join(pidDir, 'export.pid')
  const agent = await agentWith(t, { bayesExportCommand: `echo $$ > '${pidFile}'; exec sleep 30`, bayesCommandTimeoutSeconds: 1 })
  assert.equal(await agent.engine.bayesChanged(), 0)
  const e = (agent.status().errors as Array<{ what: string, message: string }>).find(x => x.what === 'bayes export')
  assert.match(e?.message ?? '', /timed out after 1000 ms/)
  // The scan returned once the command was killed, not when it would have ended.
  const pid = Number(await readFile(pidFile, 'utf8'))
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' })
})
