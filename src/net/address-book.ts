/**
 * The addresses at which this node has met each member, kept in the store so that a node that
 * restarts, or whose bootstrap peer is gone, still finds the cluster by dialling them.
 *
 * Only what a connection showed is kept, never what a peer merely claims: a beacon's address
 * is recorded only when its host is the remote host of a live connection with that very node
 * (Noise authenticated the id), and with that host; the port is the one the node announces, as
 * an inbound connection's source port is not one it listens on. So a member cannot make every
 * node dial a third party, forever. The book is bounded (members, addresses per member), and a
 * member not met for {@link ADDRESS_TTL_MS} is dropped. Pure logic: strings in, strings out.
 */

/** Members kept: beyond libp2p's 64 connections a member could not be connected anyway. */
export const MAX_MEMBERS = 64

/** Addresses kept per member, the most recently seen first (a host with IPv4 and IPv6, a move). */
export const MAX_ADDRS_PER_MEMBER = 4

/**
 * A member not met for this long is dropped: a server down for a day is being rebuilt or was
 * retired, and when it comes back it dials the cluster itself (or is found by mDNS, bootstrap or
 * another member's introduction); redialling a dead address every 2 s forever helps no one.
 */
export const ADDRESS_TTL_MS = 24 * 60 * 60 * 1000

/**
 * A member met again is stored again once its stored time is this old, not on every beacon:
 * after a restart the TTL then counts from at most an hour before the last meeting.
 */
const STORE_EVERY_MS = 60 * 60 * 1000

/** Longest node id or address taken from the store. */
const MAX_TEXT = 256

/** One member's entry, as stored. */
export interface AddressEntry {
  /** Multiaddrs ending in /p2p/<id>, most recently seen first. */
  addrs: string[]
  /** When a live connection last showed them (ms). */
  lastSeen: number
}

/** The host part of a multiaddr string (`/ip4/10.0.0.1`), or null when it has none. */
function hostOf (addr: string): string | null {
  const parts = addr.split('/')
  return parts.length >= 3 && /^(ip4|ip6|dns|dns4|dns6)$/.test(parts[1]) ? `/${parts[1]}/${parts[2]}` : null
}

/** The members' addresses. */
export class AddressBook {
  private readonly entries = new Map<string, AddressEntry & { stored: number }>()

  constructor (private readonly now: () => number) {}

  /**
   * A book from what the store held: entries of another shape (the claims that older agents
   * stored), oversized, expired or beyond the bounds are left out.
   */
  static load (stored: unknown, now: () => number): AddressBook {
    const book = new AddressBook(now)
    if (stored === null || typeof stored !== 'object') return book
    const valid: Array<[string, AddressEntry]> = []
    for (const [nodeId, e] of Object.entries(stored as Record<string, unknown>)) {
      const entry = e as Partial<AddressEntry> | null
      if (nodeId.length > MAX_TEXT || entry === null || typeof entry !== 'object' || !Number.isSafeInteger(entry.lastSeen) || !Array.isArray(entry.addrs)) continue
      const addrs = entry.addrs.filter((a): a is string => typeof a === 'string' && a.length <= MAX_TEXT && hostOf(a) !== null).slice(0, MAX_ADDRS_PER_MEMBER)
      if (addrs.length > 0) valid.push([nodeId, { addrs, lastSeen: entry.lastSeen as number }])
    }
    valid.sort((a, b) => b[1].lastSeen - a[1].lastSeen)
    for (const [nodeId, e] of valid.slice(0, MAX_MEMBERS)) book.entries.set(nodeId, { ...e, stored: e.lastSeen })
    book.expire()
    return book
  }

  /**
   * Member `nodeId` is connected now, over connections whose remote addresses are `remote`, and
   * announces `claimed`. Records the claimed addresses that end in /p2p/<nodeId> and whose host a
   * connection shows; true when the stored form changed (write it).
   */
  met (nodeId: string, remote: readonly string[], claimed: readonly string[]): boolean {
    const hosts = new Set(remote.map(hostOf))
    hosts.delete(null)
    // An address of this very node (ending in its id) on a host a connection with it shows.
    const seen = claimed.filter(a => a.length <= MAX_TEXT && a.endsWith(`/p2p/${nodeId}`) && hosts.has(hostOf(a)))
    if (seen.length === 0) return false
    const now = this.now()
    const before = this.entries.get(nodeId)
    const addrs = [...new Set([...seen, ...(before?.addrs ?? [])])].slice(0, MAX_ADDRS_PER_MEMBER)
    const same = before !== undefined && before.addrs.length === addrs.length && before.addrs.every((a, i) => a === addrs[i])
    // Re-inserted, so the map's order is least recently met first.
    this.entries.delete(nodeId)
    const stale = before === undefined || !same || now - before.stored >= STORE_EVERY_MS
    this.entries.set(nodeId, { addrs, lastSeen: now, stored: stale ? now : before?.stored ?? now })
    while (this.entries.size > MAX_MEMBERS) this.entries.delete(this.entries.keys().next().value as string)
    return stale
  }

  /** Drops members not met for the TTL; true when one was dropped (write it). */
  expire (): boolean {
    const now = this.now()
    let dropped = false
    for (const [nodeId, e] of this.entries) {
      if (now - e.lastSeen > ADDRESS_TTL_MS) {
        this.entries.delete(nodeId)
        dropped = true
      }
    }
    return dropped
  }

  /** Forgets a member (this node's own id). */
  delete (nodeId: string): void {
    this.entries.delete(nodeId)
  }

  /** Each member's addresses, to redial while it is not connected. */
  members (): Array<[string, string[]]> {
    return [...this.entries].map(([nodeId, e]) => [nodeId, [...e.addrs]])
  }

  /** The stored form: the time stored is the time last written, so a restart does not extend the TTL. */
  toJSON (): Record<string, AddressEntry> {
    const out: Record<string, AddressEntry> = {}
    for (const [nodeId, e] of this.entries) out[nodeId] = { addrs: [...e.addrs], lastSeen: e.stored }
    return out
  }
}
