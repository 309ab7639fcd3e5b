/**
 * The HTTP port of an agent with the default config: bound to 127.0.0.1 only, and control
 * works there without a token (only this machine can reach it); the token file is still made.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, rm, stat } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent } from '../../../src/agent.js'
import { defaultConfig } from '../../../src/config.js'
import { controlTokenPath } from '../../../src/http/control-token.js'
import { generateClusterKey, writeClusterKey } from '../../../src/net/cluster-key.js'
import { testAgentConfig } from '../../helpers/in-process.js'

async function startDefaultAgent (t: any): Promise<Agent> {
  const root = await mkdtemp(join(tmpdir(), 'spamsync-bind-'))
  const keyFile = join(root, 'cluster.key')
  await writeClusterKey(keyFile, generateClusterKey())
  await mkdir(join(root, 'settings'))
  // httpHost is left at its default: the point of the test.
  const config = testAgentConfig(root, keyFile, [])
  assert.equal(config.httpHost, defaultConfig().httpHost)
  const agent = await Agent.start(config)
  t.after(async () => {
    await agent.stop()
    await rm(root, { recursive: true, force: true })
  })
  return agent
}

/** The error code of a GET to host:port, or 'answered' when something answered. */
async function probe (host: string, port: number): Promise<string> {
  return await new Promise((resolve) => {
    const req = request({ host, port, path: '/status', timeout: 2000 }, (res) => { res.resume(); resolve('answered') })
    req.on('error', (err: any) => { resolve(err.code ?? String(err)) })
    req.on('timeout', () => { req.destroy(new Error('timeout')) })
    req.end()
  })
}

test('the default bind address is 127.0.0.1', () => {
  assert.equal(defaultConfig().httpHost, '127.0.0.1')
})

test('an agent with the default config answers on 127.0.0.1 and refuses another loopback address', async (t) => {
  const agent = await startDefaultAgent(t)
  assert.equal(await probe('127.0.0.1', agent.httpPort), 'answered')
  // 127.0.0.2 reaches a socket bound to 0.0.0.0 but not one bound to 127.0.0.1.
  assert.equal(await probe('127.0.0.2', agent.httpPort), 'ECONNREFUSED')
})

test('on the loopback bind a POST /sync needs no token', async (t) => {
  const agent = await startDefaultAgent(t)
  const res = await fetch(`http://127.0.0.1:${agent.httpPort}/sync`, { method: 'POST' })
  assert.equal(res.status, 200)
})

test('the agent writes the control token at first start, mode 0600', async (t) => {
  const agent = await startDefaultAgent(t)
  assert.equal((await stat(controlTokenPath(agent.config.dataDir))).mode & 0o777, 0o600)
})
