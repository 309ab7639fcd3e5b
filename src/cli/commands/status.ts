import { UsageError, AgentUnreachableError, ControlTokenError, HostNotAllowedError } from '../../errors.js'
import { loadConfig } from '../../config.js'
import { readControlToken } from '../../http/control-token.js'
import { printableDeep } from '../../printable.js'
import { isIP } from 'node:net'
import { configFlags, configHelp, configOptions, type CommandContext } from '../command.js'
import type { Command } from '../command.js'
import { clusterSummary, type ClusterNode } from '../../cluster/health.js'
import type { ReceivedStatus } from '../../http/status-document.js'

/**
 * The config keys of a command that talks to the running agent: where its HTTP API listens, and
 * its data folder (with the control token). Read like `start` reads them (--config, SPAMSYNC_*,
 * flags), so the same config file and environment reach the agent they started.
 */
export const AGENT_KEYS = ['dataDir', 'httpPort', 'httpHost'] as const

/** Where the running agent answers, and its data folder. */
export interface AgentTarget {
  /** Host for the URL: the bind address, or loopback when the agent binds every address. */
  host: string
  port: number
  dataDir: string
}

/** The agent `values` (--config, SPAMSYNC_*, --data-dir, --http-host, --http-port) point at. */
export async function agentTarget (values: CommandContext['values']): Promise<AgentTarget> {
  const config = await loadConfig({ file: values.config as string | undefined, env: process.env, flags: configFlags(values, [...AGENT_KEYS]) })
  if (config.httpPort === 0) throw new UsageError('httpPort is 0 (a free port the agent picks): give the port it printed at start with --http-port')
  // A wildcard bind answers on loopback too; any other address is dialled as it is.
  const host = config.httpHost === '0.0.0.0' ? '127.0.0.1' : config.httpHost === '::' ? '::1' : config.httpHost
  return { host, port: config.httpPort, dataDir: config.dataDir }
}

/**
 * Calls the agent's HTTP API; `token` (the data folder's control token) goes along when given.
 * Every string of the answer comes back printable: what a peer said reaches the terminal
 * escaped, even from an agent that did not clean it.
 */
export async function callAgent<T> (at: AgentTarget, method: 'GET' | 'POST', path: string, timeoutMs = 10_000, token: string | null = null): Promise<T> {
  let res: Response
  const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` }
  const host = isIP(at.host) === 6 ? `[${at.host}]` : at.host
  try {
    res = await fetch(`http://${host}:${at.port}${path}`, { method, headers, signal: AbortSignal.timeout(timeoutMs) })
  } catch (err: any) {
    throw new AgentUnreachableError(`no agent answers on ${host}:${at.port} (is it running? --config, --http-host, --http-port)`, { cause: err })
  }
  const body = printableDeep(await res.json()) as { message?: string } | null
  if (res.status === 401 || res.status === 403) throw new ControlTokenError(body?.message ?? `HTTP ${res.status}`)
  if (res.status === 421) throw new HostNotAllowedError(body?.message ?? `HTTP ${res.status}`)
  // The agent's answer to `path` (http/status-document.ts names each); an older agent may leave fields out.
  return body as T
}

/**
 * The control token of the agent's data folder, or null when it has none (the agent then
 * answers 401 with a message naming the file).
 */
export async function controlTokenOf (at: AgentTarget): Promise<string | null> {
  return await readControlToken(at.dataDir)
}

function version (v: { term: number, seq: number } | null | undefined): string {
  return v == null ? '-' : `${v.term}.${v.seq}`
}

function ago (iso: string | null | undefined, nowMs: number): string {
  if (iso == null) return '-'
  const s = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000))
  return `${s}s ago`
}

/** A table cell padded to its column, and always followed by a space: a value wider than its column must not run into the next one. */
function col (text: string, width: number): string {
  return text.length < width ? text.padEnd(width) : `${text} `
}

/** The cluster view: the summary, then one line per node (name, role, applied version, lag, last sync, problems). */
export function formatCluster (nodes: ClusterNode[], nowMs = Date.now()): string[] {
  const width = Math.max(4, ...nodes.map(n => n.name.length + (n.self ? 2 : 0))) + 2
  const lines = [clusterSummary(nodes), '', `${'NODE'.padEnd(width)}${'ROLE'.padEnd(11)}${'APPLIED'.padEnd(9)}${'LAG'.padEnd(12)}${'LAST SYNC'.padEnd(14)}PROBLEMS`]
  for (const n of nodes) {
    const lag = n.lagSeconds === null || n.lagSeconds === 0 ? String(n.lagVersions) : `${n.lagVersions} (${n.lagSeconds}s)`
    const name = n.self ? `${n.name} *` : n.name
    lines.push(`${col(name, width)}${col(n.role, 11)}${col(n.appliedVersion, 9)}${col(lag, 12)}${col(ago(n.lastSync, nowMs), 14)}${n.problems.length === 0 ? '-' : n.problems.join(', ')}`)
  }
  return lines
}

/** The master by name when the cluster view knows it, else by id. */
function masterName (s: ReceivedStatus): string {
  if (s.masterId == null) return 'none yet'
  const name = Array.isArray(s.cluster) ? s.cluster.find(n => n.nodeId === s.masterId)?.name : undefined
  return name === undefined || name === s.masterId ? s.masterId : name
}

/** The status document as a readable table; times are shown as seconds before nowMs. */
export function formatStatus (s: ReceivedStatus, nowMs = Date.now()): string {
  // An agent from before the cluster view has no such field.
  const cluster: string[] = Array.isArray(s.cluster) ? [...formatCluster(s.cluster, nowMs), '(* this node)', ''] : []
  const lines = [
    ...cluster,
    `node      ${s.name ?? s.nodeId}${s.name === undefined ? '' : ` (id ${s.nodeId})`}`,
    `role      ${s.role} (term ${s.term}, master ${masterName(s)})`,
    `version   central ${version(s.version)}, applied ${version(s.appliedVersion)}   agent ${s.agentVersion}, protocol ${s.protocolVersion}`,
    `clock     ${s.clockOffsetMs == null ? 'no master clock heard yet' : `${s.clockOffsetMs} ms ahead of the master's (list edits are stamped on the master's)`}`,
    // An agent from before tombstone collection has no such field.
    ...(s.tombstoneFloor === undefined ? [] : [`deletes   ${s.tombstoneFloor === null ? 'all kept (no tombstone floor yet)' : `forgotten when stamped before ${s.tombstoneFloor} (tombstone floor)`}`]),
    `traffic   ${s.bytesSent} bytes sent, ${s.bytesReceived} received`,
    `upload    ${s.lastUpload === null ? '-' : `${s.lastUpload.kind} ${s.lastUpload.bytes} bytes ${ago(s.lastUpload.time, nowMs)}`}`,
    `download  ${s.lastDownload === null ? '-' : `${s.lastDownload.kind} ${s.lastDownload.bytes} bytes ${ago(s.lastDownload.time, nowMs)}`}`,
    '',
    'DATASET        ENTRIES  INVALID LINES'
  ]
  for (const [name, d] of Object.entries(s.datasets)) {
    lines.push(`${name.padEnd(15)}${String(d.entries).padStart(7)}  ${d.invalidCount}`)
    if (typeof d.fileError === 'string') lines.push(`  ${d.fileError}`)
    for (const bad of d.invalidLines.slice(0, 5)) lines.push(`  ${bad.file}:${bad.line}: ${bad.reason}`)
  }
  // An agent from before outputs existed has no such field.
  const outputs = Array.isArray(s.outputs) ? s.outputs : []
  if (outputs.length > 0) lines.push('', 'OUTPUT')
  for (const o of outputs) {
    const cmd = o.command === null ? 'no command' : o.command.ok === null ? 'command not run yet' : o.command.ok === true ? `command ok ${ago(o.command.lastRun, nowMs)}` : `command FAILED: ${o.command.error}`
    lines.push(`${o.format} ${o.path}: ${o.entries} entries, rendered ${ago(o.lastRender, nowMs)}, ${cmd}${o.writeError === null ? '' : `, write FAILED: ${o.writeError}`}`)
    for (const [why, n] of Object.entries<number>(o.leftOut)) lines.push(`  left out ${n}: ${why}`)
    if (o.conflicts > 0) lines.push(`  ${o.conflicts} keys also in a list with the opposite verdict (precedence decided)`)
  }
  const nameWidth = Math.max(4, ...s.peers.map(p => String(p.name ?? p.id).length)) + 2
  lines.push('', `${'PEER'.padEnd(nameWidth)}ROLE       APPLIED  AGENT    COMPATIBLE  LAST SEEN  ID`)
  for (const p of s.peers) {
    const compatible = p.compatible ? 'yes' : 'no'
    lines.push(`${col(String(p.name ?? p.id), nameWidth)}${col(String(p.role), 11)}${col(version(p.appliedVersion), 9)}${col(String(p.agentVersion ?? '-'), 9)}${col(compatible, 12)}${col(ago(p.lastSeen, nowMs), 11)}${p.id}`)
    if (!p.compatible) lines.push(`  refused: ${p.reason}`)
    // An agent from before dial errors were kept has no such field.
    if (p.lastDialError != null && p.connected !== true) lines.push(`  last dial failed ${ago(p.lastDialError.time, nowMs)}: ${p.lastDialError.message}`)
  }
  if (s.peers.length === 0) lines.push('(none)')
  // An agent from before file-mode warnings has no such field.
  const warnings = s.warnings ?? []
  if (warnings.length > 0) {
    lines.push('', 'WARNINGS')
    for (const w of warnings) lines.push(w)
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
  help: `Usage: spamsync status [--json] [options]

Asks the running agent for its status: first the cluster (a one-line summary, then one line per
node with its name, role, applied version, lag, last sync and problems), then this node's
detail. It asks at the httpHost and httpPort of the same --config, SPAMSYNC_* environment and
flags the agent was started with (an agent bound to 0.0.0.0 is asked on 127.0.0.1).

  --json                      print the raw JSON document
${configHelp([...AGENT_KEYS])}`,
  options: { json: { type: 'boolean' }, ...configOptions([...AGENT_KEYS]) },
  positionals: [0, 0],
  async run ({ values, stdout }) {
    const s = await callAgent<ReceivedStatus>(await agentTarget(values), 'GET', '/status')
    stdout(values.json === true ? JSON.stringify(s, null, 2) + '\n' : formatStatus(s))
    return 0
  }
}
