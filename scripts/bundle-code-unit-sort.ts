/**
 * An esbuild plugin for the bundle (scripts/bundle.ts): libp2p's peer store sorts protocol ids,
 * metadata keys and addresses with String.prototype.localeCompare, only to store and compare
 * them in a fixed order. The first call loads ICU's collation data and code: 2.3 MB of an idle
 * agent's RSS (measured with /proc/PID/pagemap over the node binary's ICU data). In the bundle
 * those comparisons sort by code unit instead: every comparison sorts both sides with the same
 * comparator, and none of these orders leaves the process. Each listed text must be found as
 * often as listed, or the build fails: a dependency that changed is looked at again, not
 * silently left as it was.
 */
import { readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Plugin } from 'esbuild'

/** One comparison to replace: `left.localeCompare(right)`, found `count` times in `file` (its path under node_modules). */
export interface CodeUnitSort {
  file: string
  left: string
  right: string
  count: number
}

/** The comparisons of the libp2p version in package-lock.json. */
export const CODE_UNIT_SORTS: readonly CodeUnitSort[] = [
  { file: '@libp2p/peer-store/dist/src/utils/to-peer-pb.js', left: 'a', right: 'b', count: 2 },
  { file: '@libp2p/peer-store/dist/src/utils/dedupe-addresses.js', left: 'a.multiaddr.toString()', right: 'b.multiaddr.toString()', count: 1 },
  { file: '@libp2p/peer-record/dist/src/peer-record/utils.js', left: 'a.toString()', right: 'b.toString()', count: 1 }
]

/** The comparator put at the top of a patched module. */
const HELPER = 'const __codeUnitOrder = (a, b) => a < b ? -1 : a > b ? 1 : 0;\n'

/** Thrown when a listed comparison is not in its file as often as listed. */
export class BundlePatchError extends Error {}

/** `source` with every listed comparison of it by code unit; throws BundlePatchError when one is not found as listed. */
export function sortByCodeUnit (source: string, sorts: readonly CodeUnitSort[], file: string): string {
  let out = source
  for (const s of sorts) {
    const from = `${s.left}.localeCompare(${s.right})`
    const found = out.split(from).length - 1
    if (found !== s.count) throw new BundlePatchError(`${file}: expected ${s.count} of ${from}, found ${found} (did the dependency change?)`)
    out = out.replaceAll(from, `__codeUnitOrder(${s.left}, ${s.right})`)
  }
  return HELPER + out
}

/** The plugin; after the build, every listed file must have been patched. */
export function codeUnitSortPlugin (sorts: readonly CodeUnitSort[] = CODE_UNIT_SORTS): Plugin {
  return {
    name: 'code-unit-sort',
    setup (build) {
      const patched = new Set<string>()
      build.onLoad({ filter: /[\\/]node_modules[\\/]@libp2p[\\/]/ }, async (args) => {
        const path = args.path.replaceAll('\\', '/')
        const mine = sorts.filter(s => path.endsWith('/node_modules/' + s.file))
        if (mine.length === 0) return undefined
        const contents = sortByCodeUnit(await readFile(args.path, 'utf8'), mine, mine[0].file)
        patched.add(mine[0].file)
        return { contents, loader: 'js', resolveDir: dirname(args.path) }
      })
      build.onEnd((result) => {
        const missing = [...new Set(sorts.map(s => s.file))].filter(f => !patched.has(f))
        if (result.errors.length === 0 && missing.length > 0) throw new BundlePatchError(`not in the bundle any more: ${missing.join(', ')} (did the dependency change?)`)
      })
    }
  }
}
