/**
 * Election state machines driven as whole clusters on a fake clock and an in-memory beacon
 * network that can partition and kill nodes. The harness itself checks the term invariants on
 * every run: a persisted term only grows, it is persisted before the machine reports or publishes it.
 */
import assert from 'node:assert/strict'
import { Election, type Beacon, type ElectionOptions, type Pin, type Role, type TermStartReason } from '../../src/election/state.js'
import { ZERO_VERSION } from '../../src/version.js'

/** Heartbeat interval of every simulated node. */
export const INTERVAL = 1000
/** Liveness window at the default of 3 missed heartbeats. */
export const WINDOW = 3 * INTERVAL
/** Resolution of the simulated clock. */
export const STEP = 50

/** How a simulated node is configured. */
export interface NodeSpec {
  /** Node id. */
  id: string
  /** Priority, 0 when omitted. */
  priority?: number
  /** Pinned role, auto when omitted. */
  pin?: Pin
  /** Persisted term at first start. */
  term?: number
  /** Offset of its ticks within the interval. */
  phase?: number
  /** Whether it can apply versions now (ElectionOptions.canLead); always when omitted. */
  canLead?: () => boolean
}

/** One role change as the agent saw it. */
export interface RoleChange {
  /** Clock time. */
  at: number
  /** New role. */
  role: Role
  /** New master. */
  masterId: string | null
  /** New term. */
  term: number
}

/** A node of the simulated cluster, across restarts. */
export class SimNode {
  /** The current incarnation. */
  election!: Election
  /** Killed nodes neither tick nor send nor receive. */
  alive = true
  /** A busy node (blocked event loop) neither ticks nor hears, but its connections stay open. */
  busy = false
  /** A deaf node ticks and sends, but the others' beacons do not reach it yet (they are late). */
  deaf = false
  /** Clock time of the next tick. */
  nextTick = 0
  /** Every term persisted, in order, across incarnations. */
  readonly persisted: number[] = []
  /** Every reported role change. */
  readonly changes: RoleChange[] = []
  /** Every term it entered, with the reason it gave. */
  readonly termStarts: Array<{ term: number, reason: TermStartReason }> = []
  /** Masters this node was told to upload its full state to. */
  readonly uploads: string[] = []
  /** Clock time of its last published beacon. */
  lastPublished = -1
  /** Beacons it published, across incarnations. */
  published = 0

  constructor (readonly spec: NodeSpec) {}

  /** Newest durable term: what a restart reads back. */
  get durableTerm (): number {
    return this.persisted.at(-1) ?? this.spec.term ?? 0
  }
}

/** Fake clock plus a network that delivers each beacon to every live node in the sender's group. */
export class Network {
  /** Fake clock. */
  now = 0
  /** Nodes by id. */
  readonly nodes = new Map<string, SimNode>()
  /** Partition group of each node; all 0 when healed. */
  private readonly groups = new Map<string, number>()

  /** Creates and starts nodes at the current time. */
  add (...specs: NodeSpec[]): SimNode[] {
    return specs.map(spec => {
      const node = new SimNode(spec)
      this.nodes.set(spec.id, node)
      this.groups.set(spec.id, 0)
      this.boot(node)
      return node
    })
  }

  /** The node by id. */
  get (id: string): SimNode {
    const node = this.nodes.get(id)
    assert.ok(node, `no node ${id}`)
    return node
  }

  /** The node stops at once, as on a crash. */
  kill (id: string): void {
    this.get(id).alive = false
  }

  /** The node's event loop blocks: it goes silent, its connections stay open. */
  block (id: string): void {
    this.get(id).busy = true
  }

  /** The blocked node runs again; its interval timer fires once, as a real one would. */
  unblock (id: string): void {
    const node = this.get(id)
    node.busy = false
    node.nextTick = this.now
  }

  /** Starts a new incarnation from the node's durable term. */
  restart (id: string): void {
    const node = this.get(id)
    node.alive = true
    this.boot(node)
  }

  /** Only nodes in one group hear each other; unlisted nodes keep their group. */
  partition (...groups: string[][]): void {
    groups.forEach((ids, g) => { for (const id of ids) this.groups.set(id, g + 1) })
  }

  /** Everyone hears everyone again. */
  heal (): void {
    for (const id of this.groups.keys()) this.groups.set(id, 0)
  }

  /** Advances the clock by `ms`, ticking every live node when its interval is due. */
  run (ms: number, each?: () => void): void {
    const end = this.now + ms
    while (this.now < end) {
      this.now += STEP
      for (const node of this.nodes.values()) {
        if (node.alive && !node.busy && node.nextTick <= this.now) {
          node.nextTick += INTERVAL
          node.election.tick()
        }
      }
      each?.()
    }
  }

  /** Live nodes. */
  alive (): SimNode[] {
    return [...this.nodes.values()].filter(n => n.alive)
  }

  /** Ids of live nodes that are master, sorted. */
  masters (): string[] {
    return this.alive().filter(n => n.election.role === 'master').map(n => n.spec.id).sort()
  }

  /** Builds and starts one incarnation, with the term invariants checked on every callback. */
  private boot (node: SimNode): void {
    const { id } = node.spec
    const election: Election = new Election({
      nodeId: id,
      priority: node.spec.priority ?? 0,
      pin: node.spec.pin ?? 'auto',
      term: node.durableTerm,
      clock: () => this.now,
      heartbeatIntervalMs: INTERVAL,
      version: () => ZERO_VERSION,
      appliedVersion: () => ZERO_VERSION,
      canLead: node.spec.canLead,
      transport: {
        publish: (beacon: Beacon) => {
          assert.ok(beacon.term <= node.durableTerm, `${id} published term ${beacon.term} before persisting it`)
          node.lastPublished = this.now
          node.published++
          this.deliver(beacon)
        },
        connected: (other: string) => {
          const peer = this.nodes.get(other)
          return peer !== undefined && peer.alive && this.groups.get(other) === this.groups.get(id)
        },
        connectedAny: () => [...this.nodes.values()].some(peer => peer !== node && peer.alive && this.groups.get(peer.spec.id) === this.groups.get(id))
      },
      events: {
        persistTerm: (term: number) => {
          assert.ok(term > node.durableTerm, `${id} persisted term ${term} after ${node.durableTerm}`)
          assert.ok(term > election.term, `${id} acted in term ${term} before persisting it`)
          node.persisted.push(term)
        },
        onRoleChange: (role, masterId, term) => {
          assert.ok(term <= node.durableTerm, `${id} reported term ${term} before persisting it`)
          node.changes.push({ at: this.now, role, masterId, term })
        },
        onUploadFullState: (masterId) => { node.uploads.push(masterId) },
        onTermStart: (term, reason) => {
          assert.equal(term, election.term, `${id} reported term ${term} before entering it`)
          node.termStarts.push({ term, reason })
        }
      }
    })
    node.election = election
    node.nextTick = this.now + (node.spec.phase ?? 0) + INTERVAL
    election.start()
  }

  /** Hands a beacon to every other live node of the sender's group. */
  private deliver (beacon: Beacon): void {
    const group = this.groups.get(beacon.nodeId)
    for (const node of this.nodes.values()) {
      if (!node.alive || node.busy || node.deaf || node.spec.id === beacon.nodeId || this.groups.get(node.spec.id) !== group) continue
      node.election.receive(structuredClone(beacon))
    }
  }
}

/** Asserts that all live nodes follow one master in one term, and returns it. */
export function agreed (net: Network): { masterId: string, term: number } {
  const masters = net.masters()
  assert.equal(masters.length, 1, `masters: ${masters.join(',')}`)
  const masterId = masters[0]
  const term = net.get(masterId).election.term
  for (const node of net.alive()) {
    assert.equal(node.election.masterId, masterId, `${node.spec.id} follows ${node.election.masterId}`)
    assert.equal(node.election.term, term, `${node.spec.id} is in term ${node.election.term}`)
    if (node.spec.id !== masterId) assert.equal(node.election.role, 'slave', `${node.spec.id} is ${node.election.role}`)
  }
  return { masterId, term }
}

/** A lone election with recording callbacks, for tests that feed beacons by hand. */
export function lone (over: Partial<ElectionOptions> = {}): { election: Election, sent: Beacon[], log: string[], clock: { now: number } } {
  const sent: Beacon[] = []
  const log: string[] = []
  const clock = { now: 0 }
  const election = new Election({
    nodeId: 'self',
    priority: 0,
    pin: 'auto',
    term: 0,
    clock: () => clock.now,
    heartbeatIntervalMs: INTERVAL,
    version: () => ZERO_VERSION,
    appliedVersion: () => ZERO_VERSION,
    transport: { publish: b => { sent.push(b); log.push(`publish ${b.role} ${b.term}`) } },
    events: {
      persistTerm: t => { log.push(`persist ${t}`) },
      onRoleChange: (role, masterId, term) => { log.push(`role ${role} ${masterId} ${term}`) }
    },
    ...over
  })
  return { election, sent, log, clock }
}

/** A beacon from another node, with defaults. */
export function beacon (over: Partial<Beacon> & Pick<Beacon, 'nodeId'>): Beacon {
  return {
    priority: 0,
    pin: 'auto',
    role: 'slave',
    term: 0,
    masterId: null,
    version: ZERO_VERSION,
    appliedVersion: ZERO_VERSION,
    ...over
  }
}
