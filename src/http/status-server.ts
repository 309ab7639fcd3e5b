/**
 * The HTTP status and control API (127.0.0.1 by default): `GET /status` returns the agent's
 * status as JSON, `GET /metrics` the same in Prometheus text format, `GET /` a status page that
 * shows it, `POST /sync` runs a sync now and answers when it is done, `GET /history` lists the
 * kept central versions (`GET /history/T.S` one, with the keys it changed),
 * `POST /rollback?version=T.S` rolls the lists back to one of them (`&dry-run=1`: says what it
 * would change, and changes nothing) and `POST /check-token` only says whether the token is
 * right (the page checks one typed in).
 *
 * Two guards, whatever the bind address. Every request but a `GET` or `HEAD` must carry the
 * control token: a web page in the operator's browser can make it send a cross-site form POST
 * to 127.0.0.1, but cannot read the token from the data folder nor add an `Authorization`
 * header without a CORS preflight, which this server never grants. And every request must be
 * addressed (`Host` header) to a loopback name, an IP address or a name in `httpAllowedHosts`:
 * a page whose own name an attacker re-points at 127.0.0.1 (DNS rebinding) would otherwise be
 * same-origin with the agent and could read it. A control request a browser marks as coming
 * from another site (`Origin`, `Sec-Fetch-Site`) is refused before the token is looked at
 * (same-origin.ts): only the agent's own page may press its buttons.
 */
import { createRequire } from 'node:module'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { METRICS_CONTENT_TYPE } from './metrics.js'
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML } from './status-page.js'
import { SpamsyncError, UnknownVersionError, errorMessage } from '../errors.js'
import { checkToken, CONTROL_TOKEN_FILE, hostAllowed, TOKEN_SCHEME } from './control-token.js'
import { crossSiteReason } from './same-origin.js'
import { printable, PEER_TEXT_MAX } from '../printable.js'
import type { Version } from '../version.js'
import type { RollbackOutcome } from '../archive/change-summary.js'
import type { HistoryItem } from '../sync/version-history.js'
import type { HistoryDocument, StatusDocument } from './status-document.js'
import type { SyncNowResult } from '../sync/sync-now.js'

// Required, not imported: an ES import of node:http reads every export, and its WebSocket getter
// loads undici, 13 MB of RSS that an agent serving plain HTTP never uses.
const { createServer } = createRequire(import.meta.url)('node:http') as typeof import('node:http')

/** What the server asks of the agent. */
export interface StatusSource {
  status: () => StatusDocument
  /** The Prometheus exposition text. */
  metrics: () => Promise<string>
  sync: (opts: { upload: boolean, download: boolean }) => Promise<SyncNowResult>
  /** The kept central versions, newest first. */
  history: () => Promise<HistoryDocument>
  /** Rolls the lists back to `version`; resolves to the new central version. */
  /** A kept version's record (`GET /history/T.S`), or undefined when it is not kept here. */
  historyItem: (version: Version) => Promise<HistoryItem | undefined>
  /** Rolls back (or, as a dry run, says what a rollback would change). */
  rollback: (version: Version, dryRun: boolean) => Promise<RollbackOutcome>
}

/** A listening server. */
export interface StatusServer {
  /** The bound port (useful with port 0). */
  port: number
  close: () => Promise<void>
}

function send (res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2) + '\n'
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
  res.end(text)
}

/** How the server guards its requests. */
export interface ControlGuard {
  /** The token every request but a GET or HEAD must carry. */
  token: string
  /** Host names a request may be addressed to besides loopback names and IP addresses (`httpAllowedHosts`). */
  allowedHosts: readonly string[]
}

// Only a request addressed to this agent by a name no outsider controls is served at all.
function refuseHost (req: IncomingMessage, res: ServerResponse, guard: ControlGuard): boolean {
  if (hostAllowed(req.headers.host, guard.allowedHosts)) return false
  const host = req.headers.host === undefined ? 'no Host header' : `Host "${printable(req.headers.host, PEER_TEXT_MAX)}"`
  send(res, 421, {
    error: 'HostNotAllowedError',
    message: `${host} is not a name of this agent: address it by a loopback name (localhost), an IP address, ` +
      'or a name listed in httpAllowedHosts (names are checked against DNS rebinding)'
  })
  return true
}

// Reads stay open to whoever reaches the port (the status holds no secret); control needs the
// token, and a browser's request must come from this agent's own page.
function refuseControl (req: IncomingMessage, res: ServerResponse, url: URL, guard: ControlGuard): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return false
  const what = `${req.method ?? '?'} ${url.pathname}`
  const crossSite = crossSiteReason(req.headers)
  if (crossSite !== null) {
    send(res, 403, { error: 'CrossSiteRequestError', message: `${what} refused: ${crossSite}; control requests are taken only from this agent's own page or a program such as the spamsync CLI` })
    return true
  }
  const verdict = checkToken(req.headers.authorization, guard.token)
  if (verdict === 'ok') return false
  const how = `send "Authorization: ${TOKEN_SCHEME} <token>" with the token from ${CONTROL_TOKEN_FILE} in the agent's data folder ` +
    '(the spamsync commands read it with --data-dir)'
  if (verdict === 'missing') {
    res.setHeader('www-authenticate', TOKEN_SCHEME)
    send(res, 401, { error: 'ControlTokenError', message: `${what} needs the control token: ${how}` })
  } else {
    send(res, 403, { error: 'ControlTokenError', message: `${what}: wrong control token; ${how}` })
  }
  return true
}

/** `GET /history/T.S`: one kept version's record with the keys it changed; 404 when it is not kept here. */
async function historyItem (res: ServerResponse, source: StatusSource, name: string): Promise<void> {
  const m = /^(\d+)\.(\d+)$/.exec(name)
  if (m === null) {
    send(res, 400, { error: 'UsageError', message: 'version must be TERM.SEQ, e.g. 3.17' })
    return
  }
  const item = await source.historyItem({ term: Number(m[1]), seq: Number(m[2]) })
  if (item === undefined) send(res, 404, { error: 'UnknownVersionError', message: `version ${m[1]}.${m[2]} is not in this node's history` })
  else send(res, 200, item)
}

async function route (req: IncomingMessage, res: ServerResponse, source: StatusSource, guard: ControlGuard): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost')
  if (refuseHost(req, res, guard) || refuseControl(req, res, url, guard)) return
  if (req.method === 'GET' && url.pathname === '/status') {
    send(res, 200, source.status())
    return
  }
  if (req.method === 'POST' && url.pathname === '/sync') {
    const upload = url.searchParams.get('upload') !== '0'
    const download = url.searchParams.get('download') !== '0'
    send(res, 200, await source.sync({ upload, download }))
    return
  }
  if (req.method === 'POST' && url.pathname === '/check-token') {
    send(res, 200, { ok: true })
    return
  }
  if (req.method === 'GET' && url.pathname === '/history') {
    send(res, 200, await source.history())
    return
  }
  if (req.method === 'GET' && url.pathname.startsWith('/history/')) {
    await historyItem(res, source, url.pathname.slice('/history/'.length))
    return
  }
  if (req.method === 'POST' && url.pathname === '/rollback') {
    const m = /^(\d+)\.(\d+)$/.exec(url.searchParams.get('version') ?? '')
    if (m === null) {
      send(res, 400, { error: 'UsageError', message: 'version must be TERM.SEQ, e.g. 3.17' })
      return
    }
    try {
      send(res, 200, { ok: true, ...await source.rollback({ term: Number(m[1]), seq: Number(m[2]) }, url.searchParams.get('dry-run') === '1') })
    } catch (err: any) {
      if (!(err instanceof SpamsyncError)) throw err
      // The error's name travels, so the CLI prints the same one line as on the master.
      send(res, err instanceof UnknownVersionError ? 404 : 409, { error: err.name, message: err.message })
    }
    return
  }
  if (req.method === 'GET' && url.pathname === '/metrics') {
    const text = await source.metrics()
    res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'cache-control': 'no-store' })
    res.end(text)
    return
  }
  if (req.method === 'GET' && url.pathname === '/') {
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': STATUS_PAGE_CSP,
      'x-content-type-options': 'nosniff'
    })
    res.end(STATUS_PAGE_HTML)
    return
  }
  send(res, 404, { error: `no ${req.method} ${url.pathname}` })
}

/** Starts the server on host:port, guarded by `guard`. */
export async function startStatusServer (host: string, port: number, source: StatusSource, guard: ControlGuard): Promise<StatusServer> {
  const server: Server = createServer((req, res) => {
    // A failure after the answer began cannot be answered (writeHead would throw, and a
    // rejection here ends the process): the connection is cut instead.
    route(req, res, source, guard).catch((err) => { if (res.headersSent) res.destroy(); else send(res, 500, { error: errorMessage(err) }) })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve() })
  })
  const address = server.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
}
