import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { layerViolations, LAYERS, readGraph, violations } from '../../../scripts/check-deps.js'

/** A project root in a temp folder holding `files` (path -> text); removed when the test ends. */
async function tree (t: TestContext, files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'spamsync-check-deps-'))
  t.after(async () => { await rm(root, { recursive: true, force: true }) })
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true })
    await writeFile(join(root, path), text)
  }
  return root
}

test('reports a cycle made of a type-only import and a forbidden import in a pure folder', async (t) => {
  const root = await tree(t, {
    'src/a.ts': "import { b } from './b.js'\nexport const a = b\n",
    'src/b.ts': "import type { A } from './a.js'\nexport const b = 1\nexport type B = A\n",
    'src/crdt/pure.ts': "import { readFileSync } from 'node:fs'\nexport const read = readFileSync\n",
    'src/clean.ts': "import { a } from './a.js'\nexport const c = a\n"
  })
  assert.deepEqual(violations(readGraph(root)), [
    'src/a.ts -> src/b.ts -> src/a.ts (import cycle)',
    'src/crdt/pure.ts -> node:fs (src/crdt/ is pure: no libp2p, fs, level or child_process)'
  ])
})

test('follows a pure module through other modules of src/ to libp2p, and through re-exports and import() calls', async (t) => {
  const root = await tree(t, {
    'src/election/state.ts': "export { peer } from '../net/peer.js'\n",
    'src/net/peer.ts': "export const peer = async () => await import('@libp2p/peer-id')\n",
    'src/archive/zip.ts': "export type Lib = typeof import('../net/node.js')\n",
    'src/net/node.ts': "import { createLibp2p } from 'libp2p'\nimport type { Stream } from '@chainsafe/libp2p-yamux'\nexport { createLibp2p }\nexport type S = Stream\n"
  })
  assert.deepEqual(violations(readGraph(root)), [
    'src/archive/zip.ts -> src/net/node.ts -> @chainsafe/libp2p-yamux (src/archive/ is pure: no libp2p, fs, level or child_process)',
    'src/archive/zip.ts -> src/net/node.ts -> libp2p (src/archive/ is pure: no libp2p, fs, level or child_process)',
    'src/election/state.ts -> src/net/peer.ts -> @libp2p/peer-id (src/election/ is pure: no libp2p, fs, level or child_process)'
  ])
})

test('reports a longer cycle once, through its first module, and a module importing itself', async (t) => {
  const root = await tree(t, {
    'src/x/one.ts': "import '../y/two.js'\n",
    'src/y/two.ts': "import '../z/three.js'\n",
    'src/z/three.ts': "import '../x/one.js'\nimport '../x/one.js'\n",
    'src/self.ts': "export * from './self.js'\n"
  })
  assert.deepEqual(violations(readGraph(root)), [
    'src/self.ts -> src/self.ts (import cycle)',
    'src/x/one.ts -> src/y/two.ts -> src/z/three.ts -> src/x/one.ts (import cycle among 3 modules)'
  ])
})

test('accepts a layered tree whose pure folders import only each other and node:crypto', async (t) => {
  const root = await tree(t, {
    'src/crdt/hlc.ts': "import { createHash } from 'node:crypto'\nexport const h = createHash\n",
    'src/archive/codec.ts': "import { h } from '../crdt/hlc.js'\nexport const c = h\n",
    'src/store/store.ts': "import { Level } from 'level'\nimport { c } from '../archive/codec.js'\nexport { Level, c }\n",
    'src/agent.ts': "import { readFile } from 'node:fs/promises'\nimport { Level } from './store/store.js'\nexport { readFile, Level }\n"
  })
  assert.deepEqual(violations(readGraph(root)), [])
})

test('reports an import of a higher layer, a type-only one too, and a module in no layer', async (t) => {
  const root = await tree(t, {
    'src/errors.ts': "import type { Runner } from './ops/runner.js'\nexport type E = Runner\n",
    'src/ops/runner.ts': "export type Runner = () => void\n",
    'src/store/db.ts': "import { x } from '../sync/engine.js'\nexport const db = x\n",
    'src/sync/engine.ts': "import { db } from '../store/db.js'\nexport const x = 1\nexport const y = db\n",
    'src/stray/odd.ts': 'export const odd = 1\n'
  })
  assert.deepEqual(layerViolations(readGraph(root), [['errors'], ['ops'], ['store'], ['sync']]), [
    'src/errors.ts -> src/ops/runner.ts (layer errors is below layer ops)',
    'src/store/db.ts -> src/sync/engine.ts (layer store is below layer sync)',
    'src/stray/odd.ts (in no layer: add stray to LAYERS in scripts/check-deps.ts)'
  ])
})

test('accepts imports within a layer and down, and places every module of src/ today', async (t) => {
  const root = await tree(t, {
    'src/crdt/a.ts': "import { e } from '../errors.js'\nexport const a = e\n",
    'src/election/b.ts': "import { a } from '../crdt/a.js'\nexport const b = a\n",
    'src/errors.ts': 'export const e = 1\n'
  })
  assert.deepEqual(layerViolations(readGraph(root)), [])
  assert.deepEqual(layerViolations(readGraph('.'), LAYERS), [])
})
