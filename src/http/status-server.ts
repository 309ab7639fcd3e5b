/**
 * The HTTP status and control API (127.0.0.1 by default): `GET /status` returns the agent's
 * status as JSON, `GET /metrics` the same in Prometheus text format, `GET /` a status page that
 * shows it, and `POST /sync` runs a sync now and answers when it is done.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { METRICS_CONTENT_TYPE } from './metrics.js'
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML } from './status-page.js'

/** What the server asks of the agent. */
export interface StatusSource {
  status: () => unknown
  /** The Prometheus exposition text. */
  metrics: () => Promise<string>
  sync: (opts: { upload: boolean, download: boolean }) => Promise<unknown>
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

async function route (req: IncomingMessage, res: ServerResponse, source: StatusSource): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost')
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

/** Starts the server on host:port. */
export async function startStatusServer (host: string, port: number, source: StatusSource): Promise<StatusServer> {
  const server: Server = createServer((req, res) => {
    route(req, res, source).catch((err) => { send(res, 500, { error: err?.message ?? String(err) }) })
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
