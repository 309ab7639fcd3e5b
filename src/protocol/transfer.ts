/**
 * Moving archive bytes over a stream: length-prefixed chunks well under libp2p's 4 MiB message
 * cap, with backpressure (lpStream waits for drain when `send()` returns false), and reads
 * that give up when a peer stalls.
 */
import type { LengthPrefixedStream } from '@libp2p/utils'
import { TransferError } from '../errors.js'
import { DEFAULT_ARCHIVE_LIMITS, maxArchiveBytes } from '../archive/limits.js'

/** Bytes per chunk. */
export const CHUNK_BYTES = 1024 * 1024

/** A read that waits longer than this for the next message gives up: a stalled peer frees its slot. */
export const READ_TIMEOUT_MS = 15_000

/**
 * Archive bytes per read timeout the wait for a merge's result grows by: the master merges an
 * upload before it answers, and at the agent's V8 flags a 1M-line list's merge took 17.6 s of CPU
 * (load 4-7), past READ_TIMEOUT_MS, so the uploader gave up and asked again, 2-3 times in one
 * sync (the master answers a retry from the merge it kept). 121k lines are 1.1 MB of archive, 1M 12 MB.
 */
export const RESULT_WAIT_BYTES = 2 * 1024 * 1024

/** The wait for the result of an archive of `bytes`: `readTimeoutMs` and as much again per RESULT_WAIT_BYTES. */
export function resultWaitMs (bytes: number, readTimeoutMs = READ_TIMEOUT_MS): number {
  return Math.round(readTimeoutMs * (1 + bytes / RESULT_WAIT_BYTES))
}

/** Largest archive a download takes: the largest one a reader with the default limits accepts. */
export const MAX_TRANSFER_BYTES = maxArchiveBytes(DEFAULT_ARCHIVE_LIMITS)

/** Reads one length-prefixed message, or fails after `timeoutMs` without one. */
export async function readMessage (lp: LengthPrefixedStream<any>, timeoutMs = READ_TIMEOUT_MS): Promise<Uint8Array> {
  const msg = await lp.read({ signal: AbortSignal.timeout(timeoutMs) })
  return msg.subarray()
}

/**
 * Sends `data[offset..]` in chunks; `onProgress` gets the bytes sent so far. A chunk the peer
 * does not take within `timeoutMs` fails the send, so a reader that stalls frees the slot.
 */
export async function sendChunks (lp: LengthPrefixedStream<any>, data: Uint8Array, offset: number, onProgress?: (sent: number) => void, timeoutMs = READ_TIMEOUT_MS): Promise<void> {
  for (let pos = offset; pos < data.byteLength; pos += CHUNK_BYTES) {
    const chunk = data.subarray(pos, Math.min(pos + CHUNK_BYTES, data.byteLength))
    await lp.write(chunk, { signal: AbortSignal.timeout(timeoutMs) })
    onProgress?.(chunk.byteLength)
  }
}

/**
 * Receives chunks until `size` bytes are there. `into` may already hold a prefix (a resumed
 * upload); every chunk is appended to it as it arrives, so an interruption keeps what came.
 */
export async function receiveChunks (lp: LengthPrefixedStream<any>, size: number, into: Uint8Array[], received: number, onChunk?: (bytes: number) => void, timeoutMs = READ_TIMEOUT_MS): Promise<Uint8Array> {
  if (size > MAX_TRANSFER_BYTES) throw new TransferError(`archive of ${size} bytes is over the ${MAX_TRANSFER_BYTES}-byte limit`)
  let have = received
  while (have < size) {
    const chunk = await readMessage(lp, timeoutMs)
    if (chunk.byteLength === 0 || have + chunk.byteLength > size) throw new TransferError(`peer sent more than the declared ${size} bytes`)
    into.push(chunk.slice())
    have += chunk.byteLength
    onChunk?.(chunk.byteLength)
  }
  return Buffer.concat(into)
}
