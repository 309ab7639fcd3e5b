/**
 * The HTTP control token: the file in the data folder, which hosts count as loopback, how a
 * header is judged, and the status server's guard (control needs the token, reading does not).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkToken, controlTokenPath, isLoopbackHost, loadOrCreateControlToken, readControlToken } from '../../../src/http/control-token.js'
import { startStatusServer, type StatusSource } from '../../../src/http/status-server.js'

async function tempDir (t: any): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-token-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

describe('the token file', () => {
  test('is created at first use with mode 0600 and 64 hex digits', async (t) => {
    const dir = await tempDir(t)
    const token = await loadOrCreateControlToken(dir)
    assert.match(token, /^[0-9a-f]{64}$/)
    assert.equal((await stat(controlTokenPath(dir))).mode & 0o777, 0o600)
    assert.equal((await readFile(controlTokenPath(dir), 'utf8')).trim(), token)
  })

  test('is kept across starts: the second load returns the same token', async (t) => {
    const dir = await tempDir(t)
    assert.equal(await loadOrCreateControlToken(dir), await loadOrCreateControlToken(dir))
  })

  test('an operator-written token is used as it is', async (t) => {
    const dir = await tempDir(t)
    await writeFile(controlTokenPath(dir), 'my-own-secret\n', { mode: 0o600 })
    assert.equal(await loadOrCreateControlToken(dir), 'my-own-secret')
  })

  test('reading a folder without one gives null', async (t) => {
    assert.equal(await readControlToken(await tempDir(t)), null)
  })
})

describe('isLoopbackHost', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1']) {
    test(`${host} is loopback`, () => { assert.equal(isLoopbackHost(host), true) })
  }
  for (const host of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.1', 'mail.example.com', '128.0.0.1', '']) {
    test(`${JSON.stringify(host)} is not loopback`, () => { assert.equal(isLoopbackHost(host), false) })
  }
})

describe('checkToken', () => {
  const token = 'a'.repeat(64)
  test('no header is missing', () => { assert.equal(checkToken(undefined, token), 'missing') })
  test('an empty header is missing', () => { assert.equal(checkToken('  ', token), 'missing') })
  test('the right bearer token is ok', () => { assert.equal(checkToken(`Bearer ${token}`, token), 'ok') })
  test('the scheme is case-insensitive', () => { assert.equal(checkToken(`bearer ${token}`, token), 'ok') })
  test('another token is wrong', () => { assert.equal(checkToken(`Bearer ${'b'.repeat(64)}`, token), 'wrong') })
  test('a prefix of the token is wrong', () => { assert.equal(checkToken(`Bearer ${token.slice(0, 10)}`, token), 'wrong') })
  test('another scheme is wrong', () => { assert.equal(checkToken(`Basic ${token}`, token), 'wrong') })
})

describe('the status server with a token', () => {
  const token = 'c'.repeat(64)
  const calls: string[] = []
  const source: StatusSource = {
    status: () => ({ role: 'master' }),
    metrics: async () => '',
    sync: async () => { calls.push('sync'); return { ms: 1 } },
    history: async () => [],
    rollback: async () => { calls.push('rollback'); return { term: 1, seq: 2 } }
  }

  async function server (t: any, guardToken: string | null): Promise<string> {
    calls.length = 0
    const s = await startStatusServer('127.0.0.1', 0, source, { token: guardToken })
    t.after(async () => { await s.close() })
    return `http://127.0.0.1:${s.port}`
  }

  test('a POST without the token is 401, names the token file and runs nothing', async (t) => {
    const base = await server(t, token)
    const res = await fetch(`${base}/sync`, { method: 'POST' })
    assert.equal(res.status, 401)
    const body: any = await res.json()
    assert.equal(body.error, 'ControlTokenError')
    assert.match(body.message, /POST \/sync needs the control token: .*http\.token/)
    assert.deepEqual(calls, [])
  })

  test('a POST with a wrong token is 403 and runs nothing', async (t) => {
    const base = await server(t, token)
    const res = await fetch(`${base}/rollback?version=1.1`, { method: 'POST', headers: { authorization: `Bearer ${'d'.repeat(64)}` } })
    assert.equal(res.status, 403)
    assert.match(((await res.json()) as any).message, /wrong control token/)
    assert.deepEqual(calls, [])
  })

  test('a POST with the token runs', async (t) => {
    const base = await server(t, token)
    const res = await fetch(`${base}/sync`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    assert.equal(res.status, 200)
    assert.deepEqual(calls, ['sync'])
  })

  test('GET /status stays readable without the token', async (t) => {
    const base = await server(t, token)
    const res = await fetch(`${base}/status`)
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { role: 'master' })
  })

  test('any other method counts as control: a PUT without the token is 401', async (t) => {
    const base = await server(t, token)
    assert.equal((await fetch(`${base}/sync`, { method: 'PUT' })).status, 401)
  })

  test('without a token (loopback bind) a POST needs none', async (t) => {
    const base = await server(t, null)
    assert.equal((await fetch(`${base}/sync`, { method: 'POST' })).status, 200)
    assert.deepEqual(calls, ['sync'])
  })
})
