/**
 * Preloaded into an agent by bench/footprint.ts (`node --import <this file> bin/spamsync.js start`):
 * on SIGUSR2 the process prints how its V8 heap is used, which /proc cannot tell, as one stderr
 * line `MEMORY_PROBE_TAG {json}`, then collects garbage and prints the heap's live bytes too (the
 * RSS is read before the signal). It imports only built-ins the agent loads anyway.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** Starts the probe's stderr line. */
export const MEMORY_PROBE_TAG = 'spamsync-memory-probe'

/** What the probe prints, in bytes. */
export interface HeapFigures {
  /** V8 heap pages held (committed), the bytes of live and not yet collected objects in them, and of live ones only (after a full GC). */
  heapTotal: number
  heapUsed: number
  heapLive: number
  /** Memory of JS objects held outside the V8 heap (Buffers, ArrayBuffers), and of those the ArrayBuffers. */
  external: number
  arrayBuffers: number
  /** V8's own malloc'd memory (compiler zones, tables). */
  mallocedMemory: number
}

/** A full garbage collection, without starting the agent with --expose-gc (which would change it). */
function collectGarbage (): void {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
}

process.on('SIGUSR2', () => {
  const m = process.memoryUsage()
  const h = getHeapStatistics()
  collectGarbage()
  const heapLive = process.memoryUsage().heapUsed
  const figures: HeapFigures = { heapTotal: m.heapTotal, heapUsed: m.heapUsed, heapLive, external: m.external, arrayBuffers: m.arrayBuffers, mallocedMemory: h.malloced_memory }
  process.stderr.write(`${MEMORY_PROBE_TAG} ${JSON.stringify(figures)}\n`)
})
