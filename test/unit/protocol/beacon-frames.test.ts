/** Beacon link frames (src/protocol/beacon-frames.ts): varint length and bytes, decoded from chunks as they come. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Uint8ArrayList } from 'uint8arraylist'
import { encodeFrames, FrameReader } from '../../../src/protocol/beacon-frames.js'
import { BeaconFrameError } from '../../../src/errors.js'

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill)

test('frames are encoded as it-length-prefixed encodes them (unsigned varint length, then the bytes), all in one buffer', () => {
  const frames = [bytes(5, 1), bytes(300, 2), bytes(0, 0), bytes(16384, 3)]
  const expected = new Uint8ArrayList(new Uint8Array([5]), frames[0], new Uint8Array([0xac, 0x02]), frames[1], new Uint8Array([0]), new Uint8Array([0x80, 0x80, 0x01]), frames[3]).subarray()
  assert.deepEqual(encodeFrames(frames), expected)
})

test('a frame split over chunks, even inside its length prefix, comes out whole once complete', () => {
  const wire = encodeFrames([bytes(300, 7), bytes(2, 9)])
  const reader = new FrameReader(1000)
  assert.deepEqual(reader.push(wire.subarray(0, 1)), [])
  assert.deepEqual(reader.push(wire.subarray(1, 100)), [])
  assert.deepEqual(reader.push(new Uint8ArrayList(wire.subarray(100, 303))), [bytes(300, 7)])
  assert.deepEqual(reader.push(wire.subarray(303)), [bytes(2, 9)])
})

test('several frames in one chunk come out in order', () => {
  const reader = new FrameReader(1000)
  assert.deepEqual(reader.push(encodeFrames([bytes(1, 1), bytes(200, 2), bytes(3, 3)])), [bytes(1, 1), bytes(200, 2), bytes(3, 3)])
})

test('a frame longer than the limit throws as soon as its prefix says so', () => {
  const reader = new FrameReader(1000)
  assert.throws(() => reader.push(encodeFrames([bytes(1001, 0)]).subarray(0, 2)), BeaconFrameError)
  assert.throws(() => new FrameReader(1000).push(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), BeaconFrameError)
})
