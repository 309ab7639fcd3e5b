/**
 * Bundles the compiled CLI and agent (dist/src, from tsc) and their dependencies into
 * dist/bundle/: tree-shaken and minified ES modules, the CLI's entry and one chunk per part that
 * loads only when used (each command, the agent). bin/spamsync.js, the Debian package and so the
 * systemd unit run it. Loading a few bundled chunks instead of every module file kept an idle agent's
 * RSS about 25 MB lower (bench/footprint.ts): fewer and smaller source strings, module records
 * and function metadata in the heap, and only the code that is reachable.
 *
 * `npm run build` runs it after tsc. Run: `node scripts/bundle.ts` (Node 24 strips the types).
 */
import { build } from 'esbuild'
import { rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { codeUnitSortPlugin } from './bundle-code-unit-sort.ts'
import { yamuxWindowPlugin } from './bundle-yamux-window.ts'
import { noiseFramePlugin } from './bundle-noise-frame.ts'

/** The repository root. */
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Where the bundle goes: two levels below the root, like dist/src/, so `../../package.json` (constants.ts) is the same file. */
export const BUNDLE_DIR = join(REPO, 'dist', 'bundle')

/** Packages left out of the bundle and loaded from node_modules: classic-level finds its native LevelDB binding next to its own files. */
const EXTERNAL = ['classic-level']

/** noise's WebAssembly crypto, replaced by node:crypto (scripts/bundle-noise-crypto.ts says why). */
const NOISE_CRYPTO = './scripts/bundle-noise-crypto.ts'
const ALIAS = { '@chainsafe/as-chacha20poly1305': NOISE_CRYPTO, '@chainsafe/as-sha256': NOISE_CRYPTO }

// Chunk names carry a content hash: an old build's chunks would stay beside the new ones.
rmSync(BUNDLE_DIR, { recursive: true, force: true })
const result = await build({
  absWorkingDir: REPO,
  entryPoints: { spamsync: 'dist/src/cli/main.js' },
  outdir: BUNDLE_DIR,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  external: EXTERNAL,
  alias: ALIAS,
  // libp2p's peer store sorts by code unit, not localeCompare (bundle-code-unit-sort.ts says why);
  // yamux sends a window update per half window, not per frame (bundle-yamux-window.ts); a Noise
  // message leaves in one socket write, not two (bundle-noise-frame.ts).
  plugins: [codeUnitSortPlugin(), yamuxWindowPlugin(), noiseFramePlugin()],
  minify: true,
  // Error classes name themselves after their class (errors.ts), and the CLI prints that name.
  keepNames: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  // CommonJS dependencies call require(); an ES module has none of its own.
  banner: { js: 'import{createRequire as __spamsyncRequire}from"node:module";const require=__spamsyncRequire(import.meta.url);' }
})
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0)
process.stdout.write(`bundle: ${Object.keys(result.metafile.outputs).length} files, ${Math.round(bytes / 1024)} KiB in ${BUNDLE_DIR}\n`)
