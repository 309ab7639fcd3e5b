/**
 * An esbuild plugin for the bundle (scripts/bundle.ts): @chainsafe/libp2p-noise puts a message's
 * 2-byte length and its sealed bytes into two buffers, and @libp2p/tcp writes each buffer of a
 * send to the socket on its own, so every beacon left in two write syscalls and two TCP segments,
 * and its receiver woke twice to read it (perf trace of an idle agent: a read of 2 bytes, then one
 * of 361). In the bundle the length and the sealed bytes are one buffer: one write, one segment,
 * one read. The socket write stays the plain one that completes inline; corking the socket around
 * a send (tried in sessions 13 and 14) made each send a writev whose completion comes back as a
 * callback of its own, and measured dearer. The bytes on the wire are the same. The text must be
 * found exactly once, or the build fails.
 */
import { readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Plugin } from 'esbuild'
import { BundlePatchError } from './bundle-code-unit-sort.ts'

/** The noise module that seals a connection's messages, its path under node_modules. */
export const NOISE_UTILS_FILE = '@chainsafe/libp2p-noise/dist/src/utils.js'

/** The library's two appends in encrypt(): the length, then the sealed bytes, as two buffers. */
export const TWO_BUFFERS = 'output.append(uint16BEEncode(data.byteLength));\n            output.append(data);'

/** Their replacement: one buffer holding both. */
export const ONE_BUFFER = 'output.append(__noiseMessage(data));'

/**
 * The function put at the top of the patched module: `sealed` behind its 2-byte big-endian length,
 * in one buffer. Noise's node:crypto seal gives a Uint8ArrayList for a plaintext that is one (a
 * yamux frame's header and data), whose buffers are copied one by one.
 */
export const HELPER = 'const __noiseMessage = (sealed) => { const m = new Uint8Array(2 + sealed.byteLength); m[0] = sealed.byteLength >>> 8; m[1] = sealed.byteLength & 255; ' +
  'if (sealed instanceof Uint8Array) { m.set(sealed, 2); } else { let at = 2; for (const b of sealed) { m.set(b, at); at += b.byteLength; } } return m; };\n'

/** `source` with each message in one buffer; throws BundlePatchError unless the library's appends are in it exactly once. */
export function oneBufferMessages (source: string, file: string): string {
  const found = source.split(TWO_BUFFERS).length - 1
  if (found !== 1) throw new BundlePatchError(`${file}: expected 1 of ${JSON.stringify(TWO_BUFFERS)}, found ${found} (did the dependency change?)`)
  return HELPER + source.replace(TWO_BUFFERS, ONE_BUFFER)
}

/** The plugin; after the build, the noise module must have been patched. */
export function noiseFramePlugin (): Plugin {
  return {
    name: 'noise-one-buffer',
    setup (build) {
      let patched = false
      build.onLoad({ filter: /[\\/]node_modules[\\/]@chainsafe[\\/]libp2p-noise[\\/]dist[\\/]src[\\/]utils\.js$/ }, async (args) => {
        patched = true
        return { contents: oneBufferMessages(await readFile(args.path, 'utf8'), NOISE_UTILS_FILE), loader: 'js', resolveDir: dirname(args.path) }
      })
      build.onEnd((result) => {
        if (result.errors.length === 0 && !patched) throw new BundlePatchError(`not in the bundle any more: ${NOISE_UTILS_FILE} (did the dependency change?)`)
      })
    }
  }
}
