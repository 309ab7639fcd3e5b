/**
 * An esbuild plugin for the bundle (scripts/bundle.ts): @chainsafe/libp2p-yamux answers every
 * data frame a stream receives with a window-update frame, so each beacon an idle agent receives
 * costs it a second frame sent (a Noise seal and a socket write) and the sender a second frame
 * received: a third of an idle agent's frames (CPU profile of a 10-node cluster). In the bundle a
 * stream sends its window update once half of its receive window is used, as hashicorp/yamux does:
 * with the default 256 KiB window that is one update per several hundred beacons, and a transfer
 * still gets its update before the sender's window runs out. Yamux leaves when to send window
 * updates to the receiver, so peers of any version see only fewer of them
 * (protocol/sync-v1.md, "Transport"). The text must be found exactly once, or the build fails.
 */
import { readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Plugin } from 'esbuild'
import { BundlePatchError } from './bundle-code-unit-sort.ts'

/** The yamux stream module, its path under node_modules. */
export const YAMUX_STREAM_FILE = '@chainsafe/libp2p-yamux/dist/src/stream.js'

/** The library's test in sendWindowUpdate: no update only while nothing was received since the last one. */
export const EVERY_FRAME_CHECK = 'if (this.recvWindowCapacity >= this.recvWindow && flags === 0) {'

/** Its replacement: no update while less than half of the receive window is used. */
export const HALF_WINDOW_CHECK = 'if (this.recvWindow - this.recvWindowCapacity < this.recvWindow / 2 && flags === 0) {'

/** `source` with the half-window rule; throws BundlePatchError unless the library's test is in it exactly once. */
export function halfWindowUpdates (source: string, file: string): string {
  const found = source.split(EVERY_FRAME_CHECK).length - 1
  if (found !== 1) throw new BundlePatchError(`${file}: expected 1 of ${EVERY_FRAME_CHECK}, found ${found} (did the dependency change?)`)
  return source.replace(EVERY_FRAME_CHECK, HALF_WINDOW_CHECK)
}

/** The plugin; after the build, the yamux stream module must have been patched. */
export function yamuxWindowPlugin (): Plugin {
  return {
    name: 'yamux-half-window',
    setup (build) {
      let patched = false
      build.onLoad({ filter: /[\\/]node_modules[\\/]@chainsafe[\\/]libp2p-yamux[\\/]dist[\\/]src[\\/]stream\.js$/ }, async (args) => {
        patched = true
        return { contents: halfWindowUpdates(await readFile(args.path, 'utf8'), YAMUX_STREAM_FILE), loader: 'js', resolveDir: dirname(args.path) }
      })
      build.onEnd((result) => {
        if (result.errors.length === 0 && !patched) throw new BundlePatchError(`not in the bundle any more: ${YAMUX_STREAM_FILE} (did the dependency change?)`)
      })
    }
  }
}
