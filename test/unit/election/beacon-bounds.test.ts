import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { beaconOutOfBounds, MAX_HEALTH_COUNT, MAX_HEALTH_DATASETS, MAX_SEQ, type BeaconNumbers, type HealthNumbers } from '../../../src/election/beacon-bounds.js'
import { MAX_BEACON_PERIOD, MAX_LONG_BEACON_PERIOD, MAX_TERM, MAX_TERM_STEP } from '../../../src/election/state.js'
import { MAX_WALL_MS } from '../../../src/crdt/hlc.js'

const OK: BeaconNumbers = {
  priority: 0,
  term: 7,
  version: { term: 7, seq: 3 },
  appliedVersion: { term: 7, seq: 2 },
  protocolVersion: 1,
  schemaVersion: 1,
  wallMs: Date.now(),
  beaconPeriod: 0,
  fullArchive: { version: { term: 7, seq: 3 }, size: 1000 }
}

describe('beaconOutOfBounds', () => {
  it('accepts an honest beacon and the largest values in bounds', () => {
    assert.equal(beaconOutOfBounds(OK, 7), null)
    assert.equal(beaconOutOfBounds({ ...OK, term: 7 + MAX_TERM_STEP, version: { term: 7 + MAX_TERM_STEP, seq: MAX_SEQ }, wallMs: MAX_WALL_MS, priority: -1_000_000, beaconPeriod: MAX_BEACON_PERIOD, longBeaconPeriod: MAX_LONG_BEACON_PERIOD, beat: MAX_WALL_MS, signature: new Uint8Array(64) }, 7), null)
  })

  it('drops a term past the step from this node\'s own term or past MAX_TERM', () => {
    assert.match(beaconOutOfBounds({ ...OK, term: 2 ** 53 - 1 }, 7) ?? '', /^term /)
    assert.match(beaconOutOfBounds({ ...OK, term: 8 + MAX_TERM_STEP }, 7) ?? '', /^term /)
    assert.match(beaconOutOfBounds({ ...OK, term: MAX_TERM + 1 }, MAX_TERM) ?? '', /^term /)
  })

  it('drops any other number past its bound, naming the field and not the value', () => {
    const cases: Array<[Partial<BeaconNumbers>, RegExp]> = [
      [{ priority: 1_000_001 }, /^priority/],
      [{ protocolVersion: 2 ** 31 + 1 }, /^protocol or schema/],
      [{ wallMs: 2 ** 53 - 1 }, /^wallMs/],
      [{ beaconPeriod: MAX_BEACON_PERIOD + 1 }, /^beaconPeriod/],
      [{ longBeaconPeriod: MAX_LONG_BEACON_PERIOD + 1 }, /^longBeaconPeriod/],
      [{ beat: MAX_WALL_MS + 1 }, /^beat/],
      [{ signature: new Uint8Array(63) }, /^signature/],
      [{ version: { term: 1, seq: 2 ** 53 - 1 } }, /^version /],
      [{ appliedVersion: { term: MAX_TERM + 1, seq: 0 } }, /^appliedVersion /],
      [{ fullArchive: { version: { term: 1, seq: MAX_SEQ + 1 }, size: 1 } }, /^fullArchive\.version /],
      [{ fullArchive: { size: 2 ** 53 - 1 } }, /^fullArchive\.size/]
    ]
    for (const [over, reason] of cases) {
      const why = beaconOutOfBounds({ ...OK, ...over }, 7)
      assert.match(why ?? '', reason, JSON.stringify(over))
      assert.ok(!(why ?? '').includes('9007199254740991'))
    }
  })

  it('drops a version whose term is past the beacon\'s own: only the master of a term cuts its versions', () => {
    for (const name of ['version', 'appliedVersion'] as const) {
      assert.match(beaconOutOfBounds({ ...OK, [name]: { term: 8, seq: 1 } }, 7) ?? '', new RegExp(`^${name} term past the beacon's term`))
    }
    assert.match(beaconOutOfBounds({ ...OK, fullArchive: { version: { term: 2 ** 31, seq: 1 }, size: 1 } }, 7) ?? '', /^fullArchive\.version term past/)
    assert.equal(beaconOutOfBounds({ ...OK, term: 9 }, 7), null)
  })
})

describe('beaconOutOfBounds: the health record', () => {
  const HEALTH: HealthNumbers = { lastSyncMs: Date.now(), lagMs: 0, errorCount: 3, lastErrorMs: Date.now(), invalidLines: [{ count: 2 }], outputsOk: 1, outputsFailed: 0, hooksOk: 4, hooksFailed: 1, uptimeS: 60 }

  it('accepts an honest record and the largest values in bounds', () => {
    assert.equal(beaconOutOfBounds({ ...OK, health: HEALTH }, 7), null)
    const max = { lastSyncMs: MAX_WALL_MS, lagMs: MAX_WALL_MS, errorCount: MAX_HEALTH_COUNT, lastErrorMs: MAX_WALL_MS, invalidLines: Array(MAX_HEALTH_DATASETS).fill({ count: MAX_HEALTH_COUNT }), outputsOk: MAX_HEALTH_COUNT, outputsFailed: MAX_HEALTH_COUNT, hooksOk: MAX_HEALTH_COUNT, hooksFailed: MAX_HEALTH_COUNT, uptimeS: MAX_WALL_MS }
    assert.equal(beaconOutOfBounds({ ...OK, health: max }, 7), null)
  })

  it('drops a beacon whose record has a number past its bound, or too many datasets', () => {
    const cases: Array<[Partial<HealthNumbers>, RegExp]> = [
      [{ lastSyncMs: 2 ** 53 - 1 }, /^health\.lastSyncMs/],
      [{ lagMs: MAX_WALL_MS + 1 }, /^health\.lagMs/],
      [{ lastErrorMs: -1 }, /^health\.lastErrorMs/],
      [{ uptimeS: 2 ** 53 - 1 }, /^health\.uptimeS/],
      [{ errorCount: MAX_HEALTH_COUNT + 1 }, /^a health count/],
      [{ hooksFailed: 2 ** 53 - 1 }, /^a health count/],
      [{ invalidLines: [{ count: 2 ** 53 - 1 }] }, /^a health count/],
      [{ invalidLines: Array(MAX_HEALTH_DATASETS + 1).fill({ count: 1 }) }, /^health\.invalidLines/]
    ]
    for (const [over, reason] of cases) {
      const why = beaconOutOfBounds({ ...OK, health: { ...HEALTH, ...over } }, 7)
      assert.match(why ?? '', reason, JSON.stringify(over).slice(0, 100))
      assert.ok(!(why ?? '').includes('9007199254740991'))
    }
  })
})
