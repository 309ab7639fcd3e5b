/** Election state machine: properties over random clusters, partitions and restarts. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { outranksByConfig, type Pin } from '../../../src/election/state.js'
import { INTERVAL, STEP, SimNode, Network, agreed } from '../../helpers/election-sim.js'

describe('election properties', () => {
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

})
