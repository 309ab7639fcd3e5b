/**
 * The HTTP control token: the file in the data folder, which Host headers are this agent's, how
 * a header is judged, and the status server's guards (control needs the token on every bind,
 * reading does not; every request needs a Host that no outsider can re-point).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkToken, controlTokenPath, hostAllowed, hostOfHeader, loadOrCreateControlToken, readControlToken } from '../../../src/http/control-token.js'
import { startStatusServer, type StatusSource } from '../../../src/http/status-server.js'
import type { StatusDocument } from '../../../src/http/status-document.js'
import type { SyncNowResult } from '../../../src/sync/sync-now.js'

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

describe('hostAllowed', () => {
  const allowed = ['mail1.example.com', 'Status.Example.NET.']
  for (const host of ['127.0.0.1:8737', '127.0.0.1', '127.1.2.3:80', '[::1]:8737', '[::1]', 'localhost:8737', 'LOCALHOST', 'localhost.',
    '10.0.0.5:8737', '[2001:db8::1]:8737', 'mail1.example.com:8737', 'MAIL1.example.com', 'status.example.net']) {
    test(`${host} is this agent's`, () => { assert.equal(hostAllowed(host, allowed), true) })
  }
  for (const host of [undefined, '', 'evil.example', 'evil.example:8737', 'localhost.evil.example', 'mail1.example.com.evil.example',
    '127.0.0.1.nip.io', 'sub.mail1.example.com', '2130706433', '[::1', 'localhost:port', 'a b']) {
    test(`${JSON.stringify(host)} is refused`, () => { assert.equal(hostAllowed(host, allowed), false) })
  }
  test('the port and a trailing dot are not part of the name', () => {
    assert.equal(hostOfHeader('Example.COM.:8737'), 'example.com')
    assert.equal(hostOfHeader('[::1]:1'), '::1')
  })
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
    // Only the guards are under test: the documents are stubs.
    status: () => ({ role: 'master' }) as unknown as StatusDocument,
    metrics: async () => '',
    sync: async () => { calls.push('sync'); return { ms: 1 } as unknown as SyncNowResult },
    history: async () => [],
    historyItem: async () => undefined,
    rollback: async () => { calls.push('rollback'); return { version: { term: 1, seq: 2 }, lists: {} } }
  }

  async function server (t: any): Promise<string> {
    calls.length = 0
    const s = await startStatusServer('127.0.0.1', 0, source, { token, allowedHosts: ['status.example.net'] })
    t.after(async () => { await s.close() })
    return `http://127.0.0.1:${s.port}`
  }

  /** A request with a Host header of our choosing (fetch sets its own): status code and JSON body. */
  async function raw (base: string, method: string, path: string, headers: Record<string, string>): Promise<{ status: number, body: any }> {
    const url = new URL(base)
    return await new Promise((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => { text += c })
        res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: text === '' ? null : JSON.parse(text) }) })
      })
      req.on('error', reject)
      req.end()
    })
  }

  test('a POST without the token is 401, names the token file and runs nothing', async (t) => {
    const base = await server(t)
    const res = await fetch(`${base}/sync`, { method: 'POST' })
    assert.equal(res.status, 401)
    const body: any = await res.json()
    assert.equal(body.error, 'ControlTokenError')
    assert.match(body.message, /POST \/sync needs the control token: .*http\.token/)
    assert.deepEqual(calls, [])
  })

  test('a POST with a wrong token is 403 and runs nothing', async (t) => {
    const base = await server(t)
    const res = await fetch(`${base}/rollback?version=1.1`, { method: 'POST', headers: { authorization: `Bearer ${'d'.repeat(64)}` } })
    assert.equal(res.status, 403)
    assert.match(((await res.json()) as any).message, /wrong control token/)
    assert.deepEqual(calls, [])
  })

  test('a POST with the token runs', async (t) => {
    const base = await server(t)
    const res = await fetch(`${base}/sync`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    assert.equal(res.status, 200)
    assert.deepEqual(calls, ['sync'])
  })

  test('GET /status stays readable without the token', async (t) => {
    const base = await server(t)
    const res = await fetch(`${base}/status`)
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { role: 'master' })
  })

  test('any other method counts as control: a PUT without the token is 401', async (t) => {
    const base = await server(t)
    assert.equal((await fetch(`${base}/sync`, { method: 'PUT' })).status, 401)
  })

  test('a cross-site form POST (no token, a foreign Origin) to the loopback port is 403 CrossSiteRequestError and rolls nothing back', async (t) => {
    const base = await server(t)
    const res = await raw(base, 'POST', '/rollback?version=1.1', {
      host: new URL(base).host, origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded'
    })
    assert.equal(res.status, 403)
    assert.equal(res.body.error, 'CrossSiteRequestError')
    assert.deepEqual(calls, [])
  })

  test('a CORS preflight gets no CORS grant', async (t) => {
    const base = await server(t)
    const res = await fetch(`${base}/sync`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' } })
    assert.equal(res.headers.get('access-control-allow-origin'), null)
    assert.notEqual(res.status, 200)
    assert.deepEqual(calls, [])
  })

  for (const method of ['GET', 'POST']) {
    for (const path of ['/status', '/metrics', '/history', '/', '/sync']) {
      test(`${method} ${path} with Host: evil.example (DNS rebinding) is 421 HostNotAllowedError, even with the token`, async (t) => {
        const base = await server(t)
        const res = await raw(base, method, path, { host: `evil.example:${new URL(base).port}`, authorization: `Bearer ${token}` })
        assert.equal(res.status, 421)
        assert.equal(res.body.error, 'HostNotAllowedError')
        assert.match(res.body.message, /^Host "evil\.example:\d+" is not a name of this agent: .*httpAllowedHosts/)
        assert.deepEqual(calls, [])
      })
    }
  }

  test('a name from httpAllowedHosts, localhost and an IP address are served', async (t) => {
    const base = await server(t)
    const port = new URL(base).port
    for (const host of [`status.example.net:${port}`, `localhost:${port}`, `127.0.0.1:${port}`]) {
      assert.equal((await raw(base, 'GET', '/status', { host })).status, 200, host)
    }
    assert.equal((await raw(base, 'POST', '/sync', { host: `status.example.net:${port}`, authorization: `Bearer ${token}` })).status, 200)
    assert.deepEqual(calls, ['sync'])
  })

  test('a Host with control characters is named escaped in the refusal', async (t) => {
    const base = await server(t)
    // Node refuses C0 and DEL in a header; a C1 byte (here CSI, ESC [ in one byte) gets through as latin1.
    const res = await raw(base, 'GET', '/status', { host: 'evil\x9b2J.example' })
    assert.equal(res.status, 421)
    assert.match(res.body.message, /^Host "evil\\x9b2J\.example"/)
  })
})
