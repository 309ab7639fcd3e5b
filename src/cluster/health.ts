/**
 * The cluster, seen from any node: each node's health record (sent in its beacon), the table of
 * every known node built from the records heard, and the one-line summary the CLI and the page
 * show. Pure: the clock is passed in, nothing here reads a file or the network.
 */
import { LIST_DATASETS } from '../constants.js'
import { compareVersions, formatVersion, ZERO_VERSION, type Version } from '../version.js'
import { printable } from '../printable.js'
import type { DatasetCount, NodeHealth } from '../pb/spamsync.js'

/** Longest node name (config `name`, and a peer's name where its beacon is decoded). */
export const NAME_MAX = 64

/** Longest latest-error text a beacon carries. */
export const LAST_ERROR_MAX = 200

/** An error this recent (by its node's clock) is a problem; an older one is history. */
export const RECENT_ERROR_MS = 10 * 60 * 1000

/** The parts of a node's state its health record is built from. */
export interface HealthInputs {
  /** Start of the node's newest successful upload and download (ISO), or null. */
  lastUpload: string | null
  lastDownload: string | null
  /** The node's error list (error-log.ts), oldest first. */
  errors: ReadonlyArray<{ what: string, message: string, count: number, lastTime: string }>
  /** Invalid lines per list dataset. */
  invalid: Record<string, number>
  /** Output command runs and the last result of each output (write or command). */
  outputs: ReadonlyArray<{ writeError: string | null, command: { ok: boolean | null, successes: number, failures: number } | null }>
  /** afterApply hook runs; null when none is configured. */
  hooks: { ok: number, failed: number, lastFailed: boolean } | null
  /** How long the node has known of a central version it has not applied (LagClock). */
  lagMs: number
  /** When the agent started (ms since the epoch). */
  startedAtMs: number
}

/** Tracks since when a node has known of a central version newer than the one it applied. */
export class LagClock {
  private behindSince: number | null = null

  /** The lag at `nowMs` (0 when `applied` is the newest known), remembering when it began. */
  lagMs (applied: Version, newest: Version, nowMs: number): number {
    if (compareVersions(applied, newest) >= 0) {
      this.behindSince = null
      return 0
    }
    this.behindSince ??= nowMs
    return Math.max(0, nowMs - this.behindSince)
  }
}

/** This node's health record, for its beacon. */
export function healthRecord (h: HealthInputs, nowMs: number): NodeHealth {
  const last = h.errors.at(-1)
  const commands = h.outputs.flatMap(o => o.command === null ? [] : [o.command])
  return {
    lastSyncMs: Math.max(isoMs(h.lastUpload), isoMs(h.lastDownload)),
    lagMs: h.lagMs,
    errorCount: h.errors.reduce((n, e) => n + e.count, 0),
    lastError: last === undefined ? '' : printable(`${last.what}: ${last.message}`, LAST_ERROR_MAX),
    lastErrorMs: last === undefined ? 0 : isoMs(last.lastTime),
    invalidLines: LIST_DATASETS.map(dataset => ({ dataset, count: h.invalid[dataset] ?? 0 })).filter(d => d.count > 0),
    outputsOk: commands.reduce((n, c) => n + c.successes, 0),
    outputsFailed: commands.reduce((n, c) => n + c.failures, 0),
    outputsFailing: h.outputs.some(o => o.writeError !== null || o.command?.ok === false),
    hooksOk: h.hooks?.ok ?? 0,
    hooksFailed: h.hooks?.failed ?? 0,
    hooksFailing: h.hooks?.lastFailed ?? false,
    uptimeS: Math.max(0, Math.floor((nowMs - h.startedAtMs) / 1000))
  }
}

function isoMs (iso: string | null): number {
  const ms = iso === null ? NaN : Date.parse(iso)
  return Number.isFinite(ms) && ms > 0 ? ms : 0
}

/** How a node's row is coloured: in sync and quiet, with a problem, or not heard from. */
export type HealthColour = 'ok' | 'warn' | 'down'

/** One node of the cluster table (`GET /status` `cluster`). */
export interface ClusterNode {
  nodeId: string
  name: string
  role: string
  /** This node itself. */
  self: boolean
  /** Not heard from for the liveness window. */
  down: boolean
  agentVersion: string | null
  appliedVersion: string
  /** Central versions the node is behind the newest known one (at least, across a term change). */
  lagVersions: number
  /** Seconds the node has known of a version it has not applied (its own count); null from an older agent. */
  lagSeconds: number | null
  /** Its last successful upload or download (ISO), or null. */
  lastSync: string | null
  errorCount: number | null
  lastError: string | null
  lastErrorTime: string | null
  /** Invalid lines per list dataset. */
  invalidLines: Record<string, number>
  outputs: { ok: number, failed: number, failing: boolean } | null
  hooks: { ok: number, failed: number, failing: boolean } | null
  uptimeSeconds: number | null
  /** When its last beacon arrived (ISO); now for this node. */
  lastSeen: string
  health: HealthColour
  /** What is wrong, short ("down", "4 versions behind", "hook failed"); empty when nothing is. */
  problems: string[]
}

/** A node as the table is built from it: its beacon's words (already bounded) or this node's own. */
export interface NodeSeen {
  nodeId: string
  name: string
  role: string
  self: boolean
  live: boolean
  lastSeenMs: number
  agentVersion: string | null
  appliedVersion: Version
  /** Newest central version it holds. */
  version: Version
  /** Its health record; null from an agent before health records. */
  health: NodeHealth | null
}

// Host names and node ids in code unit order: localeCompare would load ICU's collation data
// (about 2 MB of an idle agent's RSS) for an order no operator reads as alphabetical.
const byCodeUnits = (a: string, b: string): number => a < b ? -1 : a > b ? 1 : 0

/** The cluster table: one row per node, this one first, then by name. */
export function clusterTable (nodes: readonly NodeSeen[], nowMs: number): ClusterNode[] {
  const newest = nodes.reduce<Version>((v, n) => compareVersions(n.version, v) > 0 ? n.version : v, ZERO_VERSION)
  const rows = nodes.map(n => row(n, newest, nowMs))
  // Two live nodes of one name (a cloned host, a copied config) cannot be told apart by name:
  // a problem on both. A down node is left out: a reinstalled node keeps its name, not its id.
  for (const r of rows.filter(r => !r.down)) {
    const others = rows.filter(o => o !== r && !o.down && o.name === r.name).length
    if (others === 0) continue
    r.problems.push(`name shared with ${others} other node${others === 1 ? '' : 's'}`)
    r.health = 'warn'
  }
  return rows.sort((a, b) => Number(b.self) - Number(a.self) || byCodeUnits(a.name, b.name) || byCodeUnits(a.nodeId, b.nodeId))
}

/** Central versions `applied` is behind `newest`: the seq gap in one term, at least the newest's seq across terms. */
export function versionsBehind (applied: Version, newest: Version): number {
  if (compareVersions(applied, newest) >= 0) return 0
  return applied.term === newest.term ? newest.seq - applied.seq : Math.max(1, newest.seq)
}

function row (n: NodeSeen, newest: Version, nowMs: number): ClusterNode {
  const h = n.health
  const lagVersions = versionsBehind(n.appliedVersion, newest)
  const problems: string[] = []
  if (!n.live) problems.push('down')
  if (lagVersions > 0) problems.push(`${lagVersions} version${lagVersions === 1 ? '' : 's'} behind`)
  if (h?.hooksFailing === true) problems.push('hook failed')
  if (h?.outputsFailing === true) problems.push('output failed')
  if (h !== null && h.lastErrorMs > 0 && nowMs - h.lastErrorMs < RECENT_ERROR_MS) problems.push(`error: ${h.lastError}`)
  const invalid = Object.fromEntries((h?.invalidLines ?? []).map(d => [d.dataset, d.count]))
  const invalidTotal = Object.values(invalid).reduce((a, b) => a + b, 0)
  if (invalidTotal > 0) problems.push(`${invalidTotal} invalid line${invalidTotal === 1 ? '' : 's'}`)
  return {
    nodeId: n.nodeId,
    name: n.name,
    role: n.role,
    self: n.self,
    down: !n.live,
    agentVersion: n.agentVersion,
    appliedVersion: formatVersion(n.appliedVersion),
    lagVersions,
    lagSeconds: h === null ? null : Math.floor(h.lagMs / 1000),
    lastSync: h === null || h.lastSyncMs === 0 ? null : new Date(h.lastSyncMs).toISOString(),
    errorCount: h?.errorCount ?? null,
    lastError: h === null || h.lastError === '' ? null : h.lastError,
    lastErrorTime: h === null || h.lastErrorMs === 0 ? null : new Date(h.lastErrorMs).toISOString(),
    invalidLines: invalid,
    outputs: h === null ? null : { ok: h.outputsOk, failed: h.outputsFailed, failing: h.outputsFailing },
    hooks: h === null ? null : { ok: h.hooksOk, failed: h.hooksFailed, failing: h.hooksFailing },
    uptimeSeconds: h?.uptimeS ?? null,
    lastSeen: new Date(n.lastSeenMs).toISOString(),
    health: !n.live ? 'down' : problems.length > 0 ? 'warn' : 'ok',
    problems
  }
}

/**
 * The one line on top of the CLI's and the page's cluster view: "3 nodes, all in sync", or the
 * worst nodes first ("mx3 is down; mx2 is 4 versions behind: hook failed").
 */
export function clusterSummary (nodes: ReadonlyArray<Pick<ClusterNode, 'name' | 'health' | 'down' | 'problems'>>): string {
  const count = `${nodes.length} node${nodes.length === 1 ? '' : 's'}`
  const bad = nodes.filter(n => n.health !== 'ok')
  if (bad.length === 0) return `${count}, all in sync`
  const worstFirst = [...bad.filter(n => n.down), ...bad.filter(n => !n.down)]
  return `${count}: ` + worstFirst.map(n => {
    if (n.down) return `${n.name} is down`
    const [first, ...rest] = n.problems
    if (!/^\d+ versions? behind$/.test(first)) return `${n.name}: ${n.problems.join(', ')}`
    return rest.length === 0 ? `${n.name} is ${first}` : `${n.name} is ${first}: ${rest.join(', ')}`
  }).join('; ')
}

/** A peer's name and health from its beacon, bounded: a name printable and cut, unknown datasets dropped. */
export function peerHealth (name: string, health: NodeHealth | undefined): { name: string, health: NodeHealth | null } {
  return {
    name: printable(name, NAME_MAX),
    health: health === undefined
      ? null
      : {
          ...health,
          lastError: printable(health.lastError, LAST_ERROR_MAX),
          invalidLines: health.invalidLines.filter((d): d is DatasetCount => (LIST_DATASETS as readonly string[]).includes(d.dataset))
        }
  }
}

/** A remote node as the election knows it (MemberView's fields the table reads). */
export interface MemberSeen {
  nodeId: string
  role: string
  live: boolean
  lastSeen: number
  version: Version
  appliedVersion: Version
}

/** This node's part of the table. */
export interface SelfSeen {
  nodeId: string
  role: string
  agentVersion: string
  version: Version
  appliedVersion: Version
  inputs: Omit<HealthInputs, 'lagMs'>
}

/** Each node's name and health as its beacons told them, and this node's own; builds the table. */
export class ClusterView {
  private readonly heard = new Map<string, { name: string, health: NodeHealth | null, agentVersion: string }>()
  private readonly lag = new LagClock()

  constructor (readonly name: string, private readonly now: () => number) {}

  /** A member's own beacon: its name, agent version and health (bounded here, where they enter). */
  heardFrom (nodeId: string, name: string, agentVersion: string, health: NodeHealth | undefined): void {
    const seen = peerHealth(name, health)
    this.heard.set(nodeId, { ...seen, agentVersion: printable(agentVersion, NAME_MAX) })
  }

  /** A node's name: what its beacon said, else (an agent before names, or not heard yet) its id. */
  nameOf (nodeId: string): string {
    const name = this.heard.get(nodeId)?.name ?? ''
    return name === '' ? nodeId : name
  }

  /** A node's name when its beacons told one (or this node's own); undefined while only its id is known. */
  knownName (nodeId: string): string | undefined {
    const name = this.heard.get(nodeId)?.name ?? ''
    return name === '' ? undefined : name
  }

  /** This node's health record for its next beacon; `members` tell the newest version known. */
  ownHealth (self: SelfSeen, members: readonly MemberSeen[]): NodeHealth {
    const newest = [self, ...members].reduce<Version>((v, n) => compareVersions(n.version, v) > 0 ? n.version : v, ZERO_VERSION)
    const nowMs = this.now()
    return healthRecord({ ...self.inputs, lagMs: this.lag.lagMs(self.appliedVersion, newest, nowMs) }, nowMs)
  }

  /** The cluster table: this node and every member the election knows. */
  table (self: SelfSeen, members: readonly MemberSeen[]): ClusterNode[] {
    const nowMs = this.now()
    const own: NodeSeen = { ...self, name: this.name, self: true, live: true, lastSeenMs: nowMs, health: this.ownHealth(self, members) }
    const others = members.map((m): NodeSeen => {
      const h = this.heard.get(m.nodeId)
      return { ...m, name: this.nameOf(m.nodeId), self: false, lastSeenMs: m.lastSeen, agentVersion: h?.agentVersion ?? null, health: h?.health ?? null }
    })
    return clusterTable([own, ...others], nowMs)
  }
}
