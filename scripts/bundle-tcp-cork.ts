/**
 * An esbuild plugin for the bundle (scripts/bundle.ts): @libp2p/tcp writes each chunk of what a
 * connection sends with a socket write of its own, and Noise hands it every message as two chunks,
 * the 2-byte length and the sealed bytes. With Nagle off (libp2p's default) that is two write
 * syscalls and two TCP segments per beacon, each taken through the kernel's whole TCP path (strace
 * of an idle agent: `write(fd, "\1,", 2)` then `write(fd, ..., 300)` for every frame). In the
 * bundle the socket is corked around the loop, so Node hands the chunks to the kernel in one
 * writev when it is uncorked: one syscall and one segment. The bytes on the wire are the same, so
 * peers of any version see no difference (protocol/sync-v1.md, "Transport"). The text must be
 * found exactly once, or the build fails.
 */
import { readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Plugin } from 'esbuild'
import { BundlePatchError } from './bundle-code-unit-sort.ts'

/** The TCP connection module, its path under node_modules. */
export const TCP_CONN_FILE = '@libp2p/tcp/dist/src/socket-to-conn.js'

/** The library's loop in sendData: one socket write per chunk. */
export const WRITE_LOOP = `for (const buf of data) {
            sentBytes += buf.byteLength;
            canSendMore = this.socket.write(buf);
            if (!canSendMore) {
                break;
            }
        }`

/** Its replacement: the same writes, with the socket corked around them (one writev when uncorked). */
export const CORKED_WRITE_LOOP = `this.socket.cork();
        ${WRITE_LOOP}
        this.socket.uncork();`

/** `source` with the corked loop; throws BundlePatchError unless the library's loop is in it exactly once. */
export function corkedWrites (source: string, file: string): string {
  const found = source.split(WRITE_LOOP).length - 1
  if (found !== 1) throw new BundlePatchError(`${file}: expected 1 of the sendData write loop, found ${found} (did the dependency change?)`)
  return source.replace(WRITE_LOOP, CORKED_WRITE_LOOP)
}

/** The plugin; after the build, the TCP connection module must have been patched. */
export function tcpCorkPlugin (): Plugin {
  return {
    name: 'tcp-cork',
    setup (build) {
      let patched = false
      build.onLoad({ filter: /[\\/]node_modules[\\/]@libp2p[\\/]tcp[\\/]dist[\\/]src[\\/]socket-to-conn\.js$/ }, async (args) => {
        patched = true
        return { contents: corkedWrites(await readFile(args.path, 'utf8'), TCP_CONN_FILE), loader: 'js', resolveDir: dirname(args.path) }
      })
      build.onEnd((result) => {
        if (result.errors.length === 0 && !patched) throw new BundlePatchError(`not in the bundle any more: ${TCP_CONN_FILE} (did the dependency change?)`)
      })
    }
  }
}
