/**
 * The HTTP port of an agent with the default config: bound to 127.0.0.1 only. Control needs the
 * token there too (a web page in a local browser reaches 127.0.0.1), which the CLI reads from
 * the data folder; a request addressed to a foreign name (DNS rebinding) is refused.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent } from '../../../src/agent.js'
import { defaultConfig } from '../../../src/config.js'
import { controlTokenPath } from '../../../src/http/control-token.js'
import { runCli } from '../../../src/cli/main.js'
import { formatVersion } from '../../../src/version.js'
import { waitFor } from '../../helpers/agents.js'
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

/** A request as a browser would send it, Host and Origin included: status code and JSON body. */
async function raw (port: number, method: string, path: string, headers: Record<string, string>): Promise<{ status: number, body: any }> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }) })
    })
    req.on('error', reject)
    req.end('version=1.1')
  })
}

test('on the loopback bind a POST /sync needs the token, and runs with it', async (t) => {
  const agent = await startDefaultAgent(t)
  const without = await fetch(`http://127.0.0.1:${agent.httpPort}/sync`, { method: 'POST' })
  assert.equal(without.status, 401)
  assert.equal(((await without.json()) as any).error, 'ControlTokenError')
  const token = (await readFile(controlTokenPath(agent.config.dataDir), 'utf8')).trim()
  const withToken = await fetch(`http://127.0.0.1:${agent.httpPort}/sync`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
  assert.equal(withToken.status, 200)
})

test('a cross-site form POST to /rollback rolls nothing back; the CLI with the data folder does', { timeout: 60_000 }, async (t) => {
  const agent = await startDefaultAgent(t)
  await waitFor('the lone agent to be master', () => agent.election.role === 'master')
  const list = join(agent.config.settingsDir, 'whitelist.txt')
  // The version that added `key`: the master's first version (cut when it took over) may come
  // after the test's first write, so a bare "a new version" could be one without the key.
  const cut = async (key: string): Promise<string> => {
    await writeFile(list, `${key}\n`)
    let added: string | undefined
    await waitFor(`the version adding ${key}`, async () => {
      const newest = (await agent.engine.history())[0]
      if (newest?.changes?.lists.whitelist?.keys.some(k => k.key === key) === true) added = formatVersion(newest.version)
      return added !== undefined
    })
    return added as string
  }
  const first = await cut('first@example.com')
  const second = await cut('second@example.com')
  const historyBefore = (await agent.engine.history()).length

  // What a page on another site makes the browser send: a form POST, no token, its own Origin.
  const forged = await raw(agent.httpPort, 'POST', `/rollback?version=${first}`, {
    host: `127.0.0.1:${agent.httpPort}`, origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded'
  })
  assert.equal(forged.status, 403)
  assert.equal(forged.body.error, 'CrossSiteRequestError')
  // Without the Origin (a browser that sends none), the missing token still stops it.
  const bare = await raw(agent.httpPort, 'POST', `/rollback?version=${first}`, {
    host: `127.0.0.1:${agent.httpPort}`, 'content-type': 'application/x-www-form-urlencoded'
  })
  assert.equal(bare.status, 401)
  assert.equal(bare.body.error, 'ControlTokenError')
  // The same over a rebound name, even were the token known.
  const rebound = await raw(agent.httpPort, 'GET', '/status', { host: `evil.example:${agent.httpPort}` })
  assert.equal(rebound.status, 421)
  assert.equal(rebound.body.error, 'HostNotAllowedError')
  assert.equal(formatVersion(agent.engine.version), second)
  assert.equal((await agent.engine.history()).length, historyBefore)
  assert.equal(await readFile(list, 'utf8'), 'second@example.com\n')

  // The operator's CLI finds the token in the data folder and is let through.
  const out: string[] = []
  const err: string[] = []
  const io = { stdout: (s: string) => { out.push(s) }, stderr: (s: string) => { err.push(s) } }
  const port = String(agent.httpPort)
  assert.equal(await runCli(['rollback', first, '--http-port', port, '--data-dir', agent.config.dataDir], io), 0, err.join(''))
  assert.match(out.join(''), new RegExp(`^rolled the lists back to ${first.replace('.', '\\.')}: new central version`))
  await waitFor('the rolled-back file', async () => await readFile(list, 'utf8') === 'first@example.com\n')
  assert.equal(await runCli(['sync', '--http-port', port, '--data-dir', agent.config.dataDir], io), 0, err.join(''))
  assert.match(out.join(''), /synced in \d+ ms/)
})

test('the agent writes the control token at first start, mode 0600', async (t) => {
  const agent = await startDefaultAgent(t)
  assert.equal((await stat(controlTokenPath(agent.config.dataDir))).mode & 0o777, 0o600)
})
