/**
 * Control requests from another site in the operator's browser are refused by what the browser
 * says (Origin, Sec-Fetch-Site), even with the right token; the agent's own page and programs
 * (the CLI sends neither header) pass.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { crossSiteReason } from '../../../src/http/same-origin.js'
import { startStatusServer, type StatusSource } from '../../../src/http/status-server.js'
import type { StatusDocument } from '../../../src/http/status-document.js'
import type { SyncNowResult } from '../../../src/sync/sync-now.js'

describe('crossSiteReason', () => {
  const host = '127.0.0.1:8737'
  test('a program without Origin or Sec-Fetch-Site passes', () => {
    assert.equal(crossSiteReason({ host }), null)
  })
  test('the agent\'s own page (same origin) passes', () => {
    assert.equal(crossSiteReason({ host, origin: 'http://127.0.0.1:8737', 'sec-fetch-site': 'same-origin' }), null)
  })
  test('a TLS proxy that keeps the Host passes', () => {
    assert.equal(crossSiteReason({ host: 'mx1.example.com', origin: 'https://mx1.example.com' }), null)
  })
  test('another port on 127.0.0.1 is another origin, though the same site', () => {
    assert.match(crossSiteReason({ host, origin: 'http://127.0.0.1:9999' }) ?? '', /Origin "http:\/\/127\.0\.0\.1:9999"/)
    assert.match(crossSiteReason({ host, 'sec-fetch-site': 'same-site' }) ?? '', /Sec-Fetch-Site "same-site"/)
  })
  for (const origin of ['http://evil.example', 'null', 'file://', 'not a url', 'http://127.0.0.1:8737.evil.example']) {
    test(`Origin ${origin} is cross-site`, () => { assert.notEqual(crossSiteReason({ host, origin }), null) })
  }
  test('Sec-Fetch-Site cross-site is refused even with a matching Origin', () => {
    assert.notEqual(crossSiteReason({ host, origin: 'http://127.0.0.1:8737', 'sec-fetch-site': 'cross-site' }), null)
  })
  test('a hostile Origin is named escaped', () => {
    assert.match(crossSiteReason({ host, origin: 'http://e\u202evil' }) ?? '', /\\u202e/)
  })
})

describe('the status server against cross-site control requests', () => {
  const token = 'e'.repeat(64)
  const calls: string[] = []
  const source: StatusSource = {
    // Only the guards are under test: the documents are stubs.
    status: () => ({}) as unknown as StatusDocument,
    metrics: async () => '',
    sync: async () => { calls.push('sync'); return { ms: 1 } as unknown as SyncNowResult },
    history: async () => [],
    historyItem: async () => undefined,
    rollback: async () => { calls.push('rollback'); return { version: { term: 1, seq: 2 }, lists: {} } }
  }

  async function post (t: any, path: string, headers: Record<string, string>): Promise<{ status: number, body: any }> {
    calls.length = 0
    const s = await startStatusServer('127.0.0.1', 0, source, { token, allowedHosts: [] })
    t.after(async () => { await s.close() })
    return await new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: s.port, method: 'POST', path, headers: { host: `127.0.0.1:${s.port}`, ...headers } }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => { text += c })
        res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }) })
      })
      req.on('error', reject)
      req.end()
    })
  }

  test('a POST from another 127.0.0.1 port is 403 CrossSiteRequestError even with the token, and runs nothing', async (t) => {
    const res = await post(t, '/rollback?version=1.1', { origin: 'http://127.0.0.1:1', 'sec-fetch-site': 'same-site', authorization: `Bearer ${token}` })
    assert.equal(res.status, 403)
    assert.equal(res.body.error, 'CrossSiteRequestError')
    assert.match(res.body.message, /^POST \/rollback refused: .*own page/)
    assert.deepEqual(calls, [])
  })

  test('a POST from the agent\'s own page with the token runs', async (t) => {
    const res = await post(t, '/sync', { 'sec-fetch-site': 'same-origin', authorization: `Bearer ${token}` })
    assert.equal(res.status, 200)
    assert.deepEqual(calls, ['sync'])
  })

  test('POST /check-token answers ok for the right token and runs nothing', async (t) => {
    const res = await post(t, '/check-token', { authorization: `Bearer ${token}` })
    assert.deepEqual([res.status, res.body], [200, { ok: true }])
    assert.deepEqual(calls, [])
  })

  test('POST /check-token with a wrong token is 403 ControlTokenError', async (t) => {
    const res = await post(t, '/check-token', { authorization: `Bearer ${'f'.repeat(64)}` })
    assert.deepEqual([res.status, res.body.error], [403, 'ControlTokenError'])
  })
})
