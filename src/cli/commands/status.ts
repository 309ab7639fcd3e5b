import { UsageError, AgentUnreachableError, ControlTokenError, HostNotAllowedError } from '../../errors.js'
import { loadConfig } from '../../config.js'
import { readControlToken } from '../../http/control-token.js'
import { printableDeep } from '../../printable.js'
import { configFlags, type CommandContext } from '../command.js'
import type { Command } from '../command.js'

/** Reads `--http-port` (default 8737). */
export function httpPortOf (value: unknown): number {
  if (value === undefined) return 8737
  const port = Number(value)
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--http-port must be a port number, got ${String(value)}`)
  return port
}

/**
 * Calls the local agent's HTTP API; `token` (the data folder's control token) goes along when
 * given. Every string of the answer comes back printable: what a peer said reaches the terminal
 * escaped, even from an agent that did not clean it.
 */
export async function callAgent (port: number, method: 'GET' | 'POST', path: string, timeoutMs = 10_000, token: string | null = null): Promise<any> {
  let res: Response
  const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` }
  try {
    res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers, signal: AbortSignal.timeout(timeoutMs) })
  } catch (err: any) {
    throw new AgentUnreachableError(`no agent answers on 127.0.0.1:${port} (is it running? --http-port)`, { cause: err })
  }
  const body: any = printableDeep(await res.json())
  if (res.status === 401 || res.status === 403) throw new ControlTokenError(body?.message ?? `HTTP ${res.status}`)
  if (res.status === 421) throw new HostNotAllowedError(body?.message ?? `HTTP ${res.status}`)
  return body
}

/**
 * The control token of the agent's data folder (`--data-dir`, `--config` or SPAMSYNC_DATA_DIR),
 * or null when it has none (the agent then answers 401 with a message naming the file).
 */
export async function controlTokenOf (values: CommandContext['values']): Promise<string | null> {
  const config = await loadConfig({ file: values.config as string | undefined, env: process.env, flags: configFlags(values, ['dataDir']) })
  return await readControlToken(config.dataDir)
}

function version (v: { term: number, seq: number } | null | undefined): string {
  return v == null ? '-' : `${v.term}.${v.seq}`
}

function ago (iso: string | undefined): string {
  if (iso === undefined) return '-'
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))
  return `${s}s ago`
}

/** The status document as a readable table. */
export function formatStatus (s: any): string {
  const lines = [
    `node      ${s.nodeId}`,
    `role      ${s.role} (term ${s.term}, master ${s.masterId ?? 'none yet'})`,
    `version   central ${version(s.version)}, applied ${version(s.appliedVersion)}   agent ${s.agentVersion}, protocol ${s.protocolVersion}`,
    `clock     ${s.clockOffsetMs == null ? 'no master clock heard yet' : `${s.clockOffsetMs} ms ahead of the master's (list edits are stamped on the master's)`}`,
    `traffic   ${s.bytesSent} bytes sent, ${s.bytesReceived} received`,
    `upload    ${s.lastUpload === null ? '-' : `${s.lastUpload.kind} ${s.lastUpload.bytes} bytes ${ago(s.lastUpload.time)}`}`,
    `download  ${s.lastDownload === null ? '-' : `${s.lastDownload.kind} ${s.lastDownload.bytes} bytes ${ago(s.lastDownload.time)}`}`,
    '',
    'DATASET        ENTRIES  INVALID LINES'
  ]
  for (const [name, d] of Object.entries<any>(s.datasets)) {
    lines.push(`${name.padEnd(15)}${String(d.entries).padStart(7)}  ${d.invalidCount}`)
    if (typeof d.fileError === 'string') lines.push(`  ${d.fileError}`)
    for (const bad of d.invalidLines.slice(0, 5)) lines.push(`  ${bad.file}:${bad.line}: ${bad.reason}`)
  }
  // An agent from before outputs existed has no such field.
  const outputs: any[] = Array.isArray(s.outputs) ? s.outputs : []
  if (outputs.length > 0) lines.push('', 'OUTPUT')
  for (const o of outputs) {
    const cmd = o.command === null ? 'no command' : o.command.ok === null ? 'command not run yet' : o.command.ok === true ? `command ok ${ago(o.command.lastRun)}` : `command FAILED: ${o.command.error}`
    lines.push(`${o.format} ${o.path}: ${o.entries} entries, rendered ${ago(o.lastRender)}, ${cmd}${o.writeError === null ? '' : `, write FAILED: ${o.writeError}`}`)
    for (const [why, n] of Object.entries<number>(o.leftOut)) lines.push(`  left out ${n}: ${why}`)
    if (o.conflicts > 0) lines.push(`  ${o.conflicts} keys also in a list with the opposite verdict (precedence decided)`)
  }
  lines.push('', 'PEER                                                  ROLE       APPLIED  AGENT    COMPATIBLE  LAST SEEN')
  for (const p of s.peers) {
    lines.push(`${p.id.padEnd(54)}${String(p.role).padEnd(11)}${version(p.appliedVersion).padEnd(9)}${String(p.agentVersion ?? '-').padEnd(9)}${(p.compatible ? 'yes' : `no: ${p.reason}`).padEnd(12)}${ago(p.lastSeen)}`)
    // An agent from before dial errors were kept has no such field.
    if (p.lastDialError != null && p.connected !== true) lines.push(`  last dial failed ${ago(p.lastDialError.time)}: ${p.lastDialError.message}`)
  }
  if (s.peers.length === 0) lines.push('(none)')
  if ((s.warnings ?? []).length > 0) {
    lines.push('', 'WARNINGS')
    for (const w of s.warnings) lines.push(w)
  }
  if (s.errors.length > 0) {
    lines.push('', 'ERRORS')
    for (const e of s.errors.slice(-10)) lines.push(`${e.time} ${e.what}: ${e.message}${e.count > 1 ? ` (${e.count} times, last ${e.lastTime})` : ''}`)
  }
  return lines.join('\n') + '\n'
}

/** `spamsync status`: what the running agent reports. */
export const statusCommand: Command = {
  name: 'status',
  help: `Usage: spamsync status [--http-port N] [--json]

Asks the agent running on this machine (HTTP on 127.0.0.1) for its status.

  --http-port N               the agent's HTTP port (default 8737)
  --json                      print the raw JSON document`,
  options: { 'http-port': { type: 'string' }, json: { type: 'boolean' } },
  positionals: [0, 0],
  async run ({ values, stdout }) {
    const s = await callAgent(httpPortOf(values['http-port']), 'GET', '/status')
    stdout(values.json === true ? JSON.stringify(s, null, 2) + '\n' : formatStatus(s))
    return 0
  }
}
