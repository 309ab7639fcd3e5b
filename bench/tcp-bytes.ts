/**
 * TCP payload bytes a process has sent, read from the kernel with `ss -tinpH` (iproute2), so two
 * programs can be compared on what they put on the wire whatever their own counters count
 * (encryption, muxing and control messages included).
 */
import { execFileSync } from 'node:child_process'

/** One established TCP socket: its addresses and the payload bytes the peer acknowledged. */
export interface TcpSocket {
  local: string
  remote: string
  pid: number
  bytesAcked: number
}

/** Parses `ss -tinpH` output: a socket line followed by its indented info line. */
export function parseSs (text: string): TcpSocket[] {
  const out: TcpSocket[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const head = lines[i]
    if (head === '' || /^\s/.test(head)) continue
    // The state column is there or not (a `state` filter drops it): the addresses are the two
    // columns before the process column.
    const cols = head.trim().split(/\s+/)
    const users = cols.findIndex(c => c.startsWith('users:'))
    if (users < 2) continue
    const info = lines[i + 1] !== undefined && /^\s/.test(lines[i + 1]) ? lines[i + 1] : ''
    const acked = /\bbytes_acked:(\d+)/.exec(info)
    // The kernel counts the SYN as one acknowledged byte.
    const bytesAcked = acked === null ? 0 : Math.max(0, Number(acked[1]) - 1)
    for (const m of head.matchAll(/pid=(\d+)/g)) out.push({ local: cols[users - 2], remote: cols[users - 1], pid: Number(m[1]), bytesAcked })
  }
  return out
}

/** Established TCP sockets of the given processes; null when `ss` cannot be run. */
export function tcpSockets (pids: number[]): TcpSocket[] | null {
  let text: string
  try {
    text = execFileSync('ss', ['-tinpH', 'state', 'established'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  } catch {
    return null
  }
  const want = new Set(pids)
  return parseSs(text).filter(s => want.has(s.pid))
}

/** A snapshot of acknowledged bytes per socket (local->remote), to subtract from a later one. */
export type TcpSnapshot = Map<string, number>

/**
 * Acknowledged bytes per socket of `pids`, leaving out sockets whose local port is in
 * `ignoreLocalPorts` (the benchmark's own HTTP polling of the status/REST API); null without `ss`.
 */
export function tcpSnapshot (pids: number[], ignoreLocalPorts: number[]): TcpSnapshot | null {
  const sockets = tcpSockets(pids)
  if (sockets === null) return null
  const ignore = new Set(ignoreLocalPorts.map(String))
  const snap: TcpSnapshot = new Map()
  for (const s of sockets) {
    if (ignore.has(s.local.slice(s.local.lastIndexOf(':') + 1))) continue
    snap.set(`${s.pid} ${s.local}->${s.remote}`, s.bytesAcked)
  }
  return snap
}

/**
 * Bytes sent between two snapshots: growth of sockets in both, all of a socket opened meanwhile.
 * A socket closed meanwhile is lost (its bytes are not counted); `closed` says how many.
 */
export function tcpDelta (before: TcpSnapshot, after: TcpSnapshot): { bytes: number, closed: number } {
  let bytes = 0
  for (const [k, v] of after) bytes += v - (before.get(k) ?? 0)
  let closed = 0
  for (const k of before.keys()) if (!after.has(k)) closed++
  return { bytes, closed }
}
