/**
 * The frames of a beacon link (beacon-link.ts): each an unsigned varint length, then that many
 * bytes, as it-length-prefixed writes them. Encoded into one buffer per write and decoded from the
 * stream's own 'message' events, not through lpStream: its reader takes the prefix one byte at a
 * time, each an awaited read of the stream's buffer, and its writer a promise per write, which for
 * a few hundred bytes a frame were a measurable share of an idle agent's CPU (V8 CPU profile).
 */
import { Uint8ArrayList } from 'uint8arraylist'
import { BeaconFrameError } from '../errors.js'

/** Bytes a varint may take before the frame's length is known to be past any limit below 2^35. */
const MAX_PREFIX_BYTES = 5

/** `frames`, each behind its varint length, in one buffer. */
export function encodeFrames (frames: readonly Uint8Array[]): Uint8Array {
  let size = 0
  for (const f of frames) size += varintLength(f.byteLength) + f.byteLength
  const out = new Uint8Array(size)
  let at = 0
  for (const f of frames) {
    for (let n = f.byteLength; ; n >>>= 7) {
      if (n < 0x80) {
        out[at++] = n
        break
      }
      out[at++] = (n & 0x7f) | 0x80
    }
    out.set(f, at)
    at += f.byteLength
  }
  return out
}

function varintLength (n: number): number {
  let len = 1
  for (let m = n; m >= 0x80; m >>>= 7) len++
  return len
}

/** Splits the bytes of one stream into frames; a frame longer than `maxBytes` throws a BeaconFrameError. */
export class FrameReader {
  private readonly buffer = new Uint8ArrayList()

  constructor (private readonly maxBytes: number) {}

  /** Takes the next chunk of the stream; returns the frames it completes, in order. */
  push (chunk: Uint8Array | Uint8ArrayList): Uint8Array[] {
    this.buffer.append(chunk)
    const frames: Uint8Array[] = []
    for (;;) {
      const head = this.prefix()
      if (head === null || this.buffer.byteLength < head.bytes + head.length) return frames
      frames.push(this.buffer.subarray(head.bytes, head.bytes + head.length))
      this.buffer.consume(head.bytes + head.length)
    }
  }

  /** The length prefix at the buffer's start and its size, or null while it is incomplete. */
  private prefix (): { length: number, bytes: number } | null {
    let length = 0
    for (let i = 0; i < MAX_PREFIX_BYTES; i++) {
      if (i >= this.buffer.byteLength) return null
      const b = this.buffer.get(i)
      length += (b & 0x7f) * 2 ** (7 * i)
      if (length > this.maxBytes) throw new BeaconFrameError(`beacon frame longer than ${this.maxBytes} bytes`)
      if (b < 0x80) return { length, bytes: i + 1 }
    }
    throw new BeaconFrameError(`beacon frame length prefix longer than ${MAX_PREFIX_BYTES} bytes`)
  }
}
