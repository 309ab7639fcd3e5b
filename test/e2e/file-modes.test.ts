/**
 * An agent process started on an open data folder (0755) with a cluster key anyone may read
 * (0644): the folder, which holds the node's private key, is tightened to 0700; the key and a
 * loose control token are named in status `warnings` and in the log, until they are fixed.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, mkdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Cluster } from '../helpers/agents.js'

test('an open data folder is tightened; a readable key or token is a status warning and a log line', { timeout: 60_000 }, async (t) => {
  const cluster = await Cluster.create()
  t.after(async () => { await cluster.cleanup() })
  const agent = await cluster.add()
  await mkdir(agent.dataDir, { recursive: true })
  await chmod(agent.dataDir, 0o755)
  await chmod(cluster.keyFile, 0o644)
  await agent.start()

  assert.equal((await stat(agent.dataDir)).mode & 0o777, 0o700)
  const keyWarning = `the cluster key ${cluster.keyFile} is open to group or others (mode 0644): chmod 600 ${cluster.keyFile}`
  assert.deepEqual((await agent.status()).warnings, [keyWarning])
  const logged = agent.output.split('\n').filter(l => l.includes('"event":"file-mode"')).map(l => JSON.parse(l))
  assert.deepEqual(logged.map(l => [l.level, l.msg]), [
    [40, `data folder ${agent.dataDir} was open to group or others: tightened to 0700`],
    [40, keyWarning]
  ])

  const token = join(agent.dataDir, 'http.token')
  await chmod(token, 0o640)
  await chmod(cluster.keyFile, 0o600)
  assert.deepEqual((await agent.status()).warnings, [`the control token ${token} is open to group or others (mode 0640): chmod 600 ${token}`])
  await chmod(token, 0o600)
  assert.deepEqual((await agent.status()).warnings, [])
})
