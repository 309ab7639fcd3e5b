/**
 * Election state machine, driven as whole clusters on a fake clock and an in-memory topic that
 * can partition and kill nodes. The harness itself checks the term invariants on every run:
 * a persisted term only grows, it is persisted before the machine reports or publishes it.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  BUSY_MASTER_INTERVALS, Election, ElectionNotStartedError, MAX_TERM, MAX_TERM_STEP, outranksByConfig,
  type Beacon, type ElectionOptions, type Pin, type Role
} from '../../../src/election/state.js'
import { ConfigError } from '../../../src/errors.js'
import { ZERO_VERSION } from '../../../src/version.js'

/** Heartbeat interval of every simulated node. */
const INTERVAL = 1000
/** Liveness window at the default of 3 missed heartbeats. */
const WINDOW = 3 * INTERVAL
/** Resolution of the simulated clock. */
const STEP = 50

/** How a simulated node is configured. */
interface NodeSpec {
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
interface RoleChange {
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
class SimNode {
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
  /** Masters this node was told to upload its full state to. */
  readonly uploads: string[] = []
  /** Clock time of its last published beacon. */
  lastPublished = -1

  constructor (readonly spec: NodeSpec) {}

  /** Newest durable term: what a restart reads back. */
  get durableTerm (): number {
    return this.persisted.at(-1) ?? this.spec.term ?? 0
  }
}

/** Fake clock plus a topic that delivers each beacon to every live node in the sender's group. */
class Network {
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
      version: () => ZERO_VERSION,
      appliedVersion: () => ZERO_VERSION,
      canLead: node.spec.canLead,
      transport: {
        publish: (beacon: Beacon) => {
          assert.ok(beacon.term <= node.durableTerm, `${id} published term ${beacon.term} before persisting it`)
          node.lastPublished = this.now
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
        onUploadFullState: (masterId) => { node.uploads.push(masterId) }
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
function agreed (net: Network): { masterId: string, term: number } {
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
function lone (over: Partial<ElectionOptions> = {}): { election: Election, sent: Beacon[], log: string[], clock: { now: number } } {
  const sent: Beacon[] = []
  const log: string[] = []
  const clock = { now: 0 }
  const election = new Election({
    nodeId: 'self',
    priority: 0,
    pin: 'auto',
    term: 0,
    clock: () => clock.now,
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
function beacon (over: Partial<Beacon> & Pick<Beacon, 'nodeId'>): Beacon {
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

describe('election state machine', () => {
  it('a single node becomes master of term 1 after the startup wait', () => {
    const net = new Network()
    const [a] = net.add({ id: 'a' })
    net.run(WINDOW - STEP)
    assert.equal(a.election.role, 'candidate')
    net.run(INTERVAL)
    assert.equal(a.election.role, 'master')
    assert.equal(a.election.term, 1)
    assert.deepEqual(a.persisted, [1])
  })

  it('three nodes elect exactly one master, the best-ranked one', () => {
    const net = new Network()
    net.add({ id: 'c' }, { id: 'a' }, { id: 'b' })
    net.run(6 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 1 })
  })

  it('a higher priority beats a smaller node id', () => {
    const net = new Network()
    net.add({ id: 'a', priority: 1 }, { id: 'b', priority: 1 }, { id: 'z', priority: 5 })
    net.run(6 * INTERVAL)
    assert.equal(agreed(net).masterId, 'z')
  })

  it('when the master dies the next best becomes master 3 to 4 intervals after its last heartbeat, in term + 1', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b', phase: 300 }, { id: 'c', phase: 600 })
    net.run(6 * INTERVAL + 120)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 1 })
    const lastBeat = net.get('a').lastPublished
    net.kill('a')
    let electedAt = -1
    net.run(6 * INTERVAL, () => {
      if (electedAt < 0 && net.masters().length > 0) electedAt = net.now
    })
    assert.ok(electedAt - lastBeat >= WINDOW, `elected ${electedAt - lastBeat} ms after the last heartbeat`)
    assert.ok(electedAt - lastBeat <= WINDOW + INTERVAL, `elected ${electedAt - lastBeat} ms after the last heartbeat`)
    assert.deepEqual(agreed(net), { masterId: 'b', term: 2 })
  })

  it('a master that is silent but still connected (busy) keeps its role, and is followed again when it speaks', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b', phase: 300 }, { id: 'c', phase: 600 })
    net.run(6 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 1 })
    net.block('a')
    net.run((BUSY_MASTER_INTERVALS - 2) * INTERVAL)
    assert.deepEqual(net.masters(), ['a'], 'no node took over while the busy master was connected')
    assert.equal(net.get('b').election.term, 1)
    net.unblock('a')
    net.run(2 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 1 })
  })

  it('a master silent for BUSY_MASTER_INTERVALS is replaced even while its connection is open', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b', phase: 300 }, { id: 'c', phase: 600 })
    net.run(6 * INTERVAL)
    net.block('a')
    net.run((BUSY_MASTER_INTERVALS + 2) * INTERVAL)
    assert.equal(net.get('b').election.role, 'master')
    assert.equal(net.get('c').election.masterId, 'b')
    assert.equal(net.get('b').election.term, 2)
  })

  it('persists a new term before it reports, publishes or acts in it', () => {
    const { election, clock, log } = lone()
    election.start()
    for (let i = 1; i <= 3; i++) { clock.now = i * INTERVAL; election.tick() }
    assert.deepEqual(log, ['publish candidate 0', 'publish candidate 0', 'publish candidate 0',
      'persist 1', 'role master self 1', 'publish master 1'])
  })

  it('a partition {A} {B,C} gives two masters; after the heal the higher term wins and the loser uploads its full state', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b' }, { id: 'c' })
    net.run(6 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 1 })
    net.partition(['a'], ['b', 'c'])
    net.run(6 * INTERVAL)
    assert.deepEqual(net.masters(), ['a', 'b'])
    assert.equal(net.get('a').election.term, 1)
    assert.equal(net.get('b').election.term, 2)
    net.heal()
    net.run(2 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'b', term: 2 })
    assert.deepEqual(net.get('a').uploads, ['b'])
    assert.deepEqual(net.get('c').uploads, [])
  })

  it('two masters of one term after a heal: the better rank wins and the loser uploads its full state', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b' })
    net.partition(['a'], ['b'])
    net.run(6 * INTERVAL)
    assert.deepEqual(net.masters(), ['a', 'b'])
    net.heal()
    net.run(2 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 1 })
    assert.deepEqual(net.get('b').uploads, ['a'])
    assert.deepEqual(net.get('a').uploads, [])
  })

  it('after a heal the master of the higher term stays, though a smaller id rejoins', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b' }, { id: 'c' })
    net.run(6 * INTERVAL)
    net.partition(['a'], ['b', 'c'])
    net.run(6 * INTERVAL)
    net.heal()
    net.run(WINDOW - STEP)
    assert.deepEqual(agreed(net), { masterId: 'b', term: 2 })
    net.run(20 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'b', term: 2 })
    assert.deepEqual(net.get('a').uploads, ['b'])
  })

  it('after a heal a node of higher priority takes over in term + 1 once it has been live for the window', () => {
    const net = new Network()
    net.add({ id: 'a', priority: 1 }, { id: 'b' }, { id: 'c' })
    net.run(6 * INTERVAL)
    net.partition(['a'], ['b', 'c'])
    net.run(6 * INTERVAL)
    net.heal()
    net.run(WINDOW - STEP)
    assert.equal(agreed(net).masterId, 'b')
    net.run(3 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 3 })
    assert.deepEqual(net.get('b').uploads, ['a'])
  })

  it('a node with a smaller id that joins a healthy cluster does not change its master or term', () => {
    const net = new Network()
    net.add({ id: 'b' }, { id: 'c' })
    net.run(6 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'b', term: 1 })
    net.add({ id: 'a' })
    net.run(100 * INTERVAL, () => { assert.deepEqual(net.masters(), ['b']) })
    assert.deepEqual(agreed(net), { masterId: 'b', term: 1 })
    assert.deepEqual(net.get('b').changes.map(c => c.role), ['master'])
  })

  it('a node of higher priority that joins takes over only after it has been live for the window', () => {
    const net = new Network()
    net.add({ id: 'b' }, { id: 'c' })
    net.run(6 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'b', term: 1 })
    net.run(INTERVAL / 2)
    const joinedAt = net.now
    net.add({ id: 'a', priority: 1 })
    net.run(WINDOW - STEP, () => { assert.deepEqual(net.masters(), ['b']) })
    net.run(2 * INTERVAL + STEP)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 2 })
    const became = net.get('a').changes.find(c => c.role === 'master')
    assert.ok(became !== undefined && became.at - joinedAt >= WINDOW && became.at - joinedAt <= WINDOW + INTERVAL)
    assert.deepEqual(net.get('b').uploads, ['a'])
  })

  it('does not flap: with stable membership the master and term never change', () => {
    const net = new Network()
    net.add({ id: 'e', priority: 2, phase: 100 }, { id: 'd', priority: 2, phase: 400 },
      { id: 'c', priority: 1, phase: 700 }, { id: 'b', phase: 900 }, { id: 'a' })
    net.run(10 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'd', term: 1 })
    const before = [...net.nodes.values()].map(n => n.changes.length)
    net.run(1000 * INTERVAL)
    assert.deepEqual([...net.nodes.values()].map(n => n.changes.length), before)
    assert.deepEqual(agreed(net), { masterId: 'd', term: 1 })
  })

  it('a pinned slave never becomes master, even with the best rank', () => {
    const net = new Network()
    net.add({ id: 'a', priority: 9, pin: 'slave' }, { id: 'b' }, { id: 'c' })
    net.run(10 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'b', term: 1 })
    net.kill('b')
    net.run(10 * INTERVAL)
    assert.equal(agreed(net).masterId, 'c')
    assert.ok(net.get('a').changes.every(c => c.role !== 'master'))
  })

  it('with only pinned slaves left there is no master and the term does not grow', () => {
    const net = new Network()
    net.add({ id: 'a', pin: 'slave' }, { id: 'b', pin: 'slave' }, { id: 'c' })
    net.run(10 * INTERVAL)
    assert.equal(agreed(net).masterId, 'c')
    net.kill('c')
    net.run(50 * INTERVAL)
    assert.deepEqual(net.masters(), [])
    assert.equal(net.get('a').election.term, 1)
    assert.equal(net.get('a').election.role, 'candidate')
  })

  it('a pinned master stays master over better-ranked auto nodes', () => {
    const net = new Network()
    net.add({ id: 'a', priority: 9 }, { id: 'z', pin: 'master' }, { id: 'b', priority: 5 })
    net.run(10 * INTERVAL)
    assert.equal(agreed(net).masterId, 'z')
    net.run(100 * INTERVAL)
    assert.equal(agreed(net).masterId, 'z')
    assert.deepEqual(net.get('z').changes.map(c => c.role), ['master'])
  })

  it('a pinned master that joins takes over from an auto master at once, and the auto master uploads', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b' })
    net.run(6 * INTERVAL)
    net.add({ id: 'z', pin: 'master' })
    net.run(2 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'z', term: 2 })
    assert.deepEqual(net.get('a').uploads, ['z'])
  })

  it('two pinned masters settle on one, the better-ranked', () => {
    const net = new Network()
    net.add({ id: 'y', pin: 'master' }, { id: 'z', pin: 'master', priority: 1 }, { id: 'a', priority: 9 })
    net.partition(['y'], ['z', 'a'])
    net.run(6 * INTERVAL)
    assert.deepEqual(net.masters(), ['y', 'z'])
    net.heal()
    net.run(10 * INTERVAL)
    assert.equal(agreed(net).masterId, 'z')
  })

  it('a node restarted while connected that hears no beacon for a while waits, then follows the master in its term', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b' }, { id: 'c' })
    net.run(6 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 1 })
    net.kill('b')
    net.restart('b')
    const b = net.get('b')
    b.deaf = true
    net.run((BUSY_MASTER_INTERVALS - 2) * INTERVAL, () => { assert.deepEqual(net.masters(), ['a']) })
    assert.deepEqual([b.election.role, b.election.term], ['candidate', 1])
    b.deaf = false
    net.run(2 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 1 })
  })

  it('a node that starts with no connection takes the startup wait only', () => {
    const net = new Network()
    net.add({ id: 'a' })
    net.partition(['a'], ['z'])
    net.add({ id: 'z' })
    net.run(WINDOW + INTERVAL)
    assert.deepEqual(net.masters(), ['a', 'z'])
  })

  it('a restarted node with a newer persisted term keeps it and does not depose the master', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b' })
    net.run(6 * INTERVAL)
    net.add({ id: 'c', term: 7 })
    net.run(10 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 7 })
    assert.deepEqual(net.get('a').changes.map(c => c.role), ['master', 'master'])
    assert.deepEqual(net.get('c').persisted, [])
  })

  it('a restarted master comes back at its persisted term or later, never earlier', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b' })
    net.run(6 * INTERVAL)
    net.kill('a')
    net.run(6 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'b', term: 2 })
    net.kill('b')
    net.restart('a')
    assert.equal(net.get('a').election.term, 1)
    net.restart('b')
    assert.equal(net.get('b').election.term, 2)
    net.run(10 * INTERVAL)
    const { masterId, term } = agreed(net)
    assert.equal(masterId, 'a')
    assert.ok(term >= 3)
  })

  it('counts beacons of an older term for liveness but does not follow them', () => {
    const { election, clock } = lone({ term: 5 })
    election.start()
    election.receive(beacon({ nodeId: 'x', role: 'master', term: 3, masterId: 'x' }))
    assert.equal(election.role, 'candidate')
    assert.equal(election.masterId, null)
    assert.deepEqual(election.members().map(m => [m.nodeId, m.live]), [['x', true]])
    clock.now = WINDOW
    assert.deepEqual(election.members().map(m => [m.nodeId, m.live]), [['x', false]])
  })

  it('ignores its own beacons and malformed ones', () => {
    const { election } = lone()
    election.start()
    election.receive(beacon({ nodeId: 'self', role: 'master', term: 9, masterId: 'self' }))
    election.receive(beacon({ nodeId: 'y', role: 'master', term: -1, masterId: 'y' }))
    election.receive({ ...beacon({ nodeId: 'y', role: 'master', term: 4 }), role: 'king' as Role })
    assert.equal(election.term, 0)
    assert.deepEqual(election.members(), [])
  })

  it('refuses tick() before start()', () => {
    const { election } = lone()
    assert.throws(() => { election.tick() }, ElectionNotStartedError)
  })

  it('refuses bad options with a ConfigError', () => {
    assert.throws(() => lone({ term: -1 }), ConfigError)
    assert.throws(() => lone({ heartbeatIntervalMs: 0 }), ConfigError)
    assert.throws(() => lone({ missedHeartbeats: 0.5 }), ConfigError)
    assert.throws(() => lone({ nodeId: '' }), ConfigError)
  })

  it('property: once healed and stable for 10 intervals, one master that no live eligible node outranks by config, all agree, and it stays so', () => {
    /** One scheduled disturbance. */
    type Action =
      | { kind: 'kill' | 'restart', node: number, waitMs: number }
      | { kind: 'partition', groups: number[], waitMs: number }
      | { kind: 'heal', waitMs: number }
    const waitMs = fc.integer({ min: 0, max: 120 }).map(n => n * STEP)
    const action: fc.Arbitrary<Action> = fc.oneof(
      fc.record({ kind: fc.constantFrom('kill' as const, 'restart' as const), node: fc.nat(6), waitMs }),
      fc.record({ kind: fc.constant('partition' as const), groups: fc.array(fc.nat(2), { minLength: 7, maxLength: 7 }), waitMs }),
      fc.record({ kind: fc.constant('heal' as const), waitMs })
    )
    const spec = fc.record({
      priority: fc.nat(3),
      pin: fc.constantFrom<Pin>('auto', 'auto', 'auto', 'auto', 'auto', 'slave', 'master'),
      term: fc.nat(3),
      phase: fc.nat(INTERVAL / STEP - 1).map(n => n * STEP)
    })
    fc.assert(fc.property(
      fc.array(spec, { minLength: 1, maxLength: 7 }),
      fc.integer({ min: 0, max: 80 }).map(n => n * STEP),
      fc.array(action, { maxLength: 12 }),
      (specs, settleMs, actions) => {
        const net = new Network()
        const ids = specs.map((_, i) => `n${i}`)
        net.add(...specs.map((s, i) => ({ id: ids[i], ...s })))
        net.run(settleMs)
        for (const act of actions) {
          if (act.kind === 'heal') net.heal()
          else if (act.kind === 'partition') net.partition(...[0, 1, 2].map(g => ids.filter((_, i) => act.groups[i] === g)))
          else {
            const id = ids[act.node % ids.length]
            if (act.kind === 'kill') net.kill(id)
            else if (!net.get(id).alive) net.restart(id)
          }
          net.run(act.waitMs)
        }
        net.heal()
        net.run(10 * INTERVAL)
        const eligible = net.alive().filter(n => n.spec.pin !== 'slave')
        if (eligible.length === 0) {
          assert.deepEqual(net.masters(), [])
          return
        }
        const settled = agreed(net)
        const rank = (n: SimNode): { nodeId: string, priority: number, pin: Pin } => ({ nodeId: n.spec.id, priority: n.spec.priority ?? 0, pin: n.spec.pin ?? 'auto' })
        const master = rank(net.get(settled.masterId))
        for (const n of eligible) assert.ok(!outranksByConfig(rank(n), master), `${n.spec.id} outranks master ${master.nodeId} by config`)
        const changes = net.alive().map(n => n.changes.length)
        net.run(20 * INTERVAL)
        assert.deepEqual(net.alive().map(n => n.changes.length), changes, 'a settled cluster changed roles')
        assert.deepEqual(agreed(net), settled)
      }
    ), { numRuns: 300 })
  })

  it('property (stable leadership): nodes that join or restart never change a live master or its term, unless configured to outrank it', () => {
    /** One join, restart or kill of a node other than the master. */
    type Event =
      | { kind: 'join', priority: number, pin: Pin, term: number, phase: number, waitMs: number }
      | { kind: 'restart' | 'kill', node: number, downMs: number, waitMs: number }
    const waitMs = fc.integer({ min: 0, max: 60 }).map(n => n * STEP)
    const phase = fc.nat(INTERVAL / STEP - 1).map(n => n * STEP)
    const event: fc.Arbitrary<Event> = fc.oneof(
      fc.record({ kind: fc.constant('join' as const), priority: fc.nat(3), pin: fc.constantFrom<Pin>('auto', 'auto', 'slave'), term: fc.nat(3), phase, waitMs }),
      fc.record({ kind: fc.constantFrom('restart' as const, 'kill' as const), node: fc.nat(9), downMs: waitMs, waitMs })
    )
    const spec = fc.record({ priority: fc.nat(3), pin: fc.constantFrom<Pin>('auto', 'auto', 'auto', 'slave', 'master'), phase })
    fc.assert(fc.property(
      fc.array(spec, { minLength: 1, maxLength: 5 }),
      fc.array(event, { minLength: 1, maxLength: 10 }),
      (specs, events) => {
        const net = new Network()
        net.add(...specs.map((s, i) => ({ id: `n${i}`, ...s })))
        net.run(10 * INTERVAL)
        if (net.masters().length === 0) return
        const settled = agreed(net)
        const master = net.get(settled.masterId)
        const steady = (): void => {
          assert.deepEqual(net.masters(), [settled.masterId])
          assert.equal(master.election.term, settled.term)
        }
        let joined = 0
        for (const ev of events) {
          if (ev.kind === 'join') {
            // A joiner ranks at most level with the master by config; its id may be smaller.
            const priority = master.spec.pin === 'master' ? ev.priority : Math.min(ev.priority, master.spec.priority ?? 0)
            net.add({ id: `a${joined++}`, priority, pin: ev.pin, term: Math.min(ev.term, settled.term), phase: ev.phase })
          } else {
            const others = [...net.nodes.keys()].filter(id => id !== settled.masterId)
            if (others.length === 0) continue
            const id = others[ev.node % others.length]
            net.kill(id)
            if (ev.kind === 'restart') {
              net.run(ev.downMs, steady)
              net.restart(id)
            }
          }
          net.run(ev.waitMs, steady)
        }
        net.run(10 * INTERVAL, steady)
        assert.deepEqual(agreed(net), settled)
        assert.deepEqual(master.changes.map(c => c.role), ['master'])
      }
    ), { numRuns: 200 })
  })

  it('drops a beacon whose term lies more than MAX_TERM_STEP beyond its own or past MAX_TERM, and keeps running', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b' }, { id: 'c' })
    net.run(6 * INTERVAL)
    const settled = agreed(net)
    for (const term of [2 ** 53 - 1, MAX_TERM, settled.term + MAX_TERM_STEP + 1]) {
      for (const node of net.alive()) node.election.receive(beacon({ nodeId: 'evil', role: 'master', term, masterId: 'evil', pin: 'master' }))
    }
    net.run(10 * INTERVAL)
    assert.deepEqual(agreed(net), settled)
    assert.ok(net.alive().every(n => n.election.members().every(m => m.nodeId !== 'evil')))
  })

  it('follows a term up to MAX_TERM_STEP ahead, and stops raising the term at MAX_TERM', () => {
    const { election, clock } = lone({ term: MAX_TERM - 1 })
    election.start()
    election.receive(beacon({ nodeId: 'x', role: 'master', term: MAX_TERM, masterId: 'x' }))
    assert.deepEqual([election.role, election.masterId, election.term], ['slave', 'x', MAX_TERM])
    // x goes silent: at the cap the node takes the master role in the same term instead of a new one.
    for (let t = 1; t <= 8; t++) {
      clock.now = t * INTERVAL
      election.tick()
    }
    assert.deepEqual([election.role, election.term], ['master', MAX_TERM])
    assert.throws(() => lone({ term: MAX_TERM + 1 }), ConfigError)
  })

  it('a node that cannot apply is not named master while an able node is live', () => {
    const net = new Network()
    net.add({ id: 'a', priority: 5, canLead: () => false }, { id: 'b' }, { id: 'c' })
    net.run(10 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'b', term: 1 })
    net.kill('b')
    net.run(10 * INTERVAL)
    assert.equal(agreed(net).masterId, 'c')
    assert.ok(net.get('a').changes.every(c => c.role !== 'master'))
  })

  it('a master that can no longer apply hands over to an able node; alone it stays master', () => {
    let able = true
    const net = new Network()
    net.add({ id: 'a', canLead: () => able }, { id: 'b' })
    net.run(10 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'a', term: 1 })
    able = false
    net.run(WINDOW + 2 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId: 'b', term: 2 })
    assert.deepEqual(net.get('a').uploads, ['b'])

    const lonely = new Network()
    lonely.add({ id: 'z', canLead: () => false })
    lonely.run(10 * INTERVAL)
    assert.deepEqual(lonely.masters(), [])
    assert.equal(lonely.get('z').election.term, 0)
  })

  it('a slave paused longer than the liveness window does not depose a live master', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b' }, { id: 'c' })
    net.run(10 * INTERVAL)
    const { masterId, term } = agreed(net)
    const paused = net.get(masterId === 'c' ? 'b' : 'c')
    paused.alive = false
    net.run(5 * INTERVAL)
    paused.alive = true
    paused.nextTick = net.now
    net.run(5 * INTERVAL)
    assert.deepEqual(agreed(net), { masterId, term })
  })

  it('a master paused longer than the liveness window is replaced, and follows when it wakes', () => {
    const net = new Network()
    net.add({ id: 'a' }, { id: 'b' }, { id: 'c' })
    net.run(10 * INTERVAL)
    const before = agreed(net)
    const master = net.get(before.masterId)
    master.alive = false
    net.run(6 * INTERVAL)
    master.alive = true
    master.nextTick = net.now
    net.run(10 * INTERVAL)
    assert.equal(net.masters().length, 1)
    assert.ok(agreed(net).term > before.term)
  })
})
