/** The check that syncthing only talks to 127.0.0.1: the remote addresses of its processes' sockets, from /proc. */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'

/** Hex address of /proc/net/tcp{,6} to dotted/colon form. */
function procAddr (hex: string): string {
  const [addr, port] = hex.split(':')
  const p = parseInt(port, 16)
  if (addr.length === 8) {
    const b = Buffer.from(addr, 'hex').reverse()
    return `${b.join('.')}:${p}`
  }
  const words = addr.match(/.{8}/g) ?? []
  const bytes = Buffer.concat(words.map(w => Buffer.from(w, 'hex').reverse()))
  if (bytes.subarray(0, 10).every(x => x === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `${[...bytes.subarray(12)].join('.')}:${p}`
  return `[${bytes.toString('hex').match(/.{4}/g)?.join(':')}]:${p}`
}

function isLocal (addr: string): boolean {
  return addr.startsWith('127.') || addr.startsWith('0.0.0.0:') || addr.startsWith('[0000:0000:0000:0000:0000:0000:0000:000') // :: and ::1
}

/** Remote addresses outside 127.0.0.1 of every TCP/UDP socket the processes hold right now, and how many sockets were looked at. */
export function foreignPeers (pids: number[]): { found: string[], sockets: number } {
  const found: string[] = []
  let sockets = 0
  for (const pid of pids) {
    let inodes: Set<string>
    try {
      inodes = new Set(readdirSync(`/proc/${pid}/fd`).map((fd) => {
        try { return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? '' } catch { return '' }
      }).filter(x => x !== ''))
    } catch {
      continue
    }
    for (const proto of ['tcp', 'tcp6', 'udp', 'udp6']) {
      let text: string
      try { text = readFileSync(`/proc/${pid}/net/${proto}`, 'utf8') } catch { continue }
      for (const line of text.split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/)
        if (cols.length < 10 || !inodes.has(cols[9])) continue
        sockets++
        const local = procAddr(cols[1])
        const remote = procAddr(cols[2])
        if (!isLocal(remote)) found.push(`${proto} ${local} -> ${remote}`)
        else if (!isLocal(local)) found.push(`${proto} bound to ${local}`)
      }
    }
  }
  return { found, sockets }
}
