/**
 * An agent whose HTTP port is bound to every address (`--http-host 0.0.0.0`), inside a network
 * namespace the test makes (loopback plus a veth pair, both ends inside, with a private address), so the
 * port is never reachable from outside the machine. Control requests need the token from the
 * data folder; reading the status does not; `spamsync sync` finds the token by itself.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Cluster, CLI, waitFor } from '../helpers/agents.js'

const NS = `spamsync-token-${process.pid}`
const ADDR = '10.231.0.1'
const HTTP_PORT = 8900

/** Why the namespace cannot be made here, or null when it was made. */
function makeNamespace (): string | null {
  try {
    execFileSync('ip', ['netns', 'add', NS], { stdio: 'pipe' })
  } catch (err: any) {
    return `cannot create a network namespace (needs root and iproute2): ${String(err.stderr ?? err.message).trim()}`
  }
  try {
    for (const args of [['link', 'set', 'lo', 'up'], ['link', 'add', 'tok0', 'type', 'veth', 'peer', 'name', 'tok1'],
    ['addr', 'add', `${ADDR}/24`, 'dev', 'tok0'], ['link', 'set', 'tok1', 'up'], ['link', 'set', 'tok0', 'up']]) {
      execFileSync('ip', ['netns', 'exec', NS, 'ip', ...args], { stdio: 'pipe' })
    }
  } catch (err: any) {
    removeNamespace()
    return `cannot set up the namespace's interfaces: ${String(err.stderr ?? err.message).trim()}`
  }
  return null
}

function removeNamespace (): void {
  try { execFileSync('ip', ['netns', 'del', NS], { stdio: 'pipe' }) } catch {}
}

/** An HTTP request made from inside the namespace: status code and body. */
function inNamespace (method: string, url: string, token?: string): { status: number, body: any } {
  const script = `fetch(${JSON.stringify(url)}, { method: ${JSON.stringify(method)}, headers: ${JSON.stringify(token === undefined ? {} : { authorization: `Bearer ${token}` })} })
    .then(async (r) => { process.stdout.write(JSON.stringify({ status: r.status, body: await r.json() })) })`
  const out = execFileSync('ip', ['netns', 'exec', NS, process.execPath, '-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  return JSON.parse(out)
}

/** The CLI run inside the namespace. */
function cliInNamespace (args: string[]): { code: number | null, stdout: string, stderr: string } {
  const r = spawnSync('ip', ['netns', 'exec', NS, process.execPath, CLI, ...args], { encoding: 'utf8' })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const skip = makeNamespace()
if (skip === null) removeNamespace()

test('a non-loopback HTTP bind: POST needs the data folder token, GET status does not', { skip: skip ?? false, timeout: 60_000 }, async (t) => {
  assert.equal(makeNamespace(), null)
  const cluster = await Cluster.create()
  let proc: ChildProcess | null = null
  t.after(async () => {
    if (proc !== null && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise(resolve => proc!.once('exit', resolve))
      proc.kill('SIGKILL')
      await exited
    }
    removeNamespace()
    await cluster.cleanup()
  })
  const agent = await cluster.add()
  proc = spawn('ip', ['netns', 'exec', NS, process.execPath, CLI, 'start', '--data-dir', agent.dataDir, '--settings-dir', agent.settingsDir,
    '--cluster-key', cluster.keyFile, '--listen', '/ip4/127.0.0.1/tcp/4900', '--no-mdns', '--http-host', '0.0.0.0', '--http-port', String(HTTP_PORT)], { stdio: 'ignore' })
  const base = `http://${ADDR}:${HTTP_PORT}`
  await waitFor('the agent to answer on the non-loopback address', () => inNamespace('GET', `${base}/status`).status === 200)

  const tokenFile = join(agent.dataDir, 'http.token')
  assert.equal((await stat(tokenFile)).mode & 0o777, 0o600)
  const token = (await readFile(tokenFile, 'utf8')).trim()

  const missing = inNamespace('POST', `${base}/sync`)
  assert.equal(missing.status, 401)
  assert.equal(missing.body.error, 'ControlTokenError')
  assert.match(missing.body.message, /needs the control token/)

  const wrong = inNamespace('POST', `${base}/rollback?version=1.1`, 'f'.repeat(64))
  assert.equal(wrong.status, 403)
  assert.match(wrong.body.message, /wrong control token/)

  assert.equal(inNamespace('POST', `${base}/sync`, token).status, 200)

  const synced = cliInNamespace(['sync', '--http-port', String(HTTP_PORT), '--data-dir', agent.dataDir])
  assert.equal(synced.code, 0, synced.stderr)
  assert.match(synced.stdout, /^synced in \d+ ms/)

  // Pointed at a data folder without the token, the CLI prints the agent's reason in one line.
  const refused = cliInNamespace(['sync', '--http-port', String(HTTP_PORT), '--data-dir', join(cluster.root, 'elsewhere')])
  assert.equal(refused.code, 1)
  assert.match(refused.stderr, /^spamsync: ControlTokenError: POST \/sync needs the control token/)
})
