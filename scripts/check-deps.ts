/**
 * `npm run check:deps [-- ROOT]`: the layering rules of src/ that the compiler does not enforce.
 *
 * 1. No import cycle among the modules of src/, type-only and dynamic imports included: a cycle
 *    makes two modules one unit that cannot be read, tested or moved apart.
 * 2. The pure folders (crdt/, election/, archive/) reach neither libp2p, the file system, LevelDB
 *    nor child processes, also not through another module of src/: their logic runs in any test
 *    without a network, a disk or a process.
 * 3. Folder layers (LAYERS): a module imports only modules of its own layer or a lower one, type
 *    imports included, and every module of src/ belongs to a layer, so a new folder is placed
 *    on purpose.
 *
 * Prints one line per violation (the chain of imports, `file -> import`) and exits 1; prints one
 * summary line and exits 0 when there is none. Parses each file once without type checking, so
 * it takes well under a second after the compiler is loaded.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import ts from 'typescript'

/** Folders (below the root) whose modules must stay pure. */
export const PURE_FOLDERS = ['src/crdt/', 'src/election/', 'src/archive/']

/** Imports a pure module must not reach: libp2p, the file system, LevelDB, child processes. */
const FORBIDDEN = /^(libp2p(\/.*)?|@libp2p\/.*|@chainsafe\/.*|(node:)?fs(\/.*)?|level|classic-level|(node:)?child_process)$/

/**
 * The layers of src/, lowest first: each entry lists the folders (or top-level files, without
 * `.ts`) of one layer. Read off the imports as they are, lowest first: shared definitions (the
 * log and the wiring holder included); the
 * pure logic and the command runner; settings files (whose line grammar archive/ reads); the
 * archive codecs; the LevelDB store; stored replicas; the libp2p node; wire services; sync
 * orchestration; outputs and the cluster view; status server and config; local state;
 * the composition root; the CLI (which starts the agent).
 */
export const LAYERS: readonly string[][] = [
  ['constants', 'errors', 'version', 'printable', 'suggest', 'guarded', 'file-modes', 'pb', 'log', 'later', 'pace', 'trace', 'work-ahead', 'large-garbage', 'heartbeats'],
  ['crdt', 'election', 'ops'],
  ['settings'],
  ['archive'],
  ['store'],
  ['replica'],
  ['net'],
  ['protocol'],
  ['sync'],
  ['outputs', 'cluster'],
  ['http', 'config'],
  ['local-state'],
  ['agent'],
  ['cli']
]

/** The module graph of src/: per file (relative to the root, `/`-separated) the specifiers it imports, resolved to a src file where it is one. */
export type ModuleGraph = Map<string, string[]>

/** Reads every .ts file below `root`/src and what it imports. */
export function readGraph (root: string): ModuleGraph {
  const graph: ModuleGraph = new Map()
  for (const file of tsFiles(join(root, 'src'))) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS)
    graph.set(rel(root, file), specifiers(source).map(spec => resolveSpecifier(root, file, spec)))
  }
  return graph
}

/** Every violation in `graph`, one line each, sorted. */
export function violations (graph: ModuleGraph): string[] {
  return [...cycles(graph), ...impureReaches(graph)].sort()
}

/** Every module specifier of a file: imports, re-exports, `import x = require()`, `import()` calls and `import()` types. */
function specifiers (source: ts.SourceFile): string[] {
  const out: string[] = []
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      out.push(node.moduleSpecifier.text)
    } else if (ts.isExternalModuleReference(node) && ts.isStringLiteral(node.expression)) {
      out.push(node.expression.text)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments.length > 0 && ts.isStringLiteralLike(node.arguments[0])) {
      out.push(node.arguments[0].text)
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      out.push(node.argument.literal.text)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return out
}

/** A relative specifier as the src file it names (`./x.js` is `./x.ts`); any other specifier as written. */
function resolveSpecifier (root: string, from: string, spec: string): string {
  if (!spec.startsWith('.')) return spec
  const base = resolve(dirname(from), spec)
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')]
  const found = candidates.find(c => c.endsWith('.ts') && existsSync(c))
  return rel(root, found ?? base)
}

/** Each strongly connected group of modules (Tarjan), reported as one shortest cycle through its first module. */
function cycles (graph: ModuleGraph): string[] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const out: string[] = []
  const connect = (v: string): void => {
    index.set(v, index.size)
    low.set(v, index.get(v)!)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue
      if (!index.has(w)) {
        connect(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!))
      }
    }
    if (low.get(v) !== index.get(v)) return
    const group = new Set<string>()
    let w: string
    do {
      w = stack.pop()!
      onStack.delete(w)
      group.add(w)
    } while (w !== v)
    const first = [...group].sort()[0]
    const path = shortestPath(graph, first, m => m === first, group)
    if (path !== undefined) out.push(`${[first, ...path].join(' -> ')} (import cycle${group.size > 2 ? ` among ${group.size} modules` : ''})`)
  }
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v)
  return out
}

/** Per pure module and forbidden specifier it reaches, the shortest chain of imports to it. */
function impureReaches (graph: ModuleGraph): string[] {
  const out: string[] = []
  for (const file of graph.keys()) {
    if (!PURE_FOLDERS.some(folder => file.startsWith(folder))) continue
    const reached = new Set<string>()
    for (const spec of reachable(graph, file)) {
      if (!FORBIDDEN.test(spec) || reached.has(spec)) continue
      reached.add(spec)
      const path = shortestPath(graph, file, m => m === spec)!
      out.push(`${[file, ...path].join(' -> ')} (${PURE_FOLDERS.find(f => file.startsWith(f))} is pure: no libp2p, fs, level or child_process)`)
    }
  }
  return out
}

/** Every specifier reachable from `start` through src modules. */
function reachable (graph: ModuleGraph, start: string): Set<string> {
  const seen = new Set<string>()
  const todo = [start]
  while (todo.length > 0) {
    for (const next of graph.get(todo.pop()!) ?? []) {
      if (seen.has(next)) continue
      seen.add(next)
      if (graph.has(next)) todo.push(next)
    }
  }
  return seen
}

/** The modules after `start` on a shortest import chain to a specifier `isEnd` accepts (breadth first), staying within `within` when given. */
function shortestPath (graph: ModuleGraph, start: string, isEnd: (m: string) => boolean, within?: Set<string>): string[] | undefined {
  const parent = new Map<string, string>()
  const queue = [start]
  for (let i = 0; i < queue.length; i++) {
    const m = queue[i]
    for (const next of graph.get(m) ?? []) {
      if (isEnd(next)) {
        const path = [next]
        for (let at = m; at !== start; at = parent.get(at)!) path.unshift(at)
        return path
      }
      if (parent.has(next) || next === start || !graph.has(next) || (within !== undefined && !within.has(next))) continue
      parent.set(next, m)
      queue.push(next)
    }
  }
  return undefined
}

/** Every import of a module by one of a lower layer, and every module in no layer, one line each, sorted. */
export function layerViolations (graph: ModuleGraph, layers: readonly string[][] = LAYERS): string[] {
  const layerOf = (file: string): number => layers.findIndex(names => names.includes(topName(file)))
  const out: string[] = []
  for (const [file, imports] of graph) {
    const at = layerOf(file)
    if (at < 0) {
      out.push(`${file} (in no layer: add ${topName(file)} to LAYERS in scripts/check-deps.ts)`)
      continue
    }
    for (const target of imports) {
      if (!graph.has(target)) continue
      const to = layerOf(target)
      if (to > at) out.push(`${file} -> ${target} (layer ${topName(file)} is below layer ${topName(target)})`)
    }
  }
  return out.sort()
}

/** The folder below src/ a module is in, or the name of a module directly in src/ without `.ts`. */
function topName (file: string): string {
  const parts = file.replace(/^src\//, '').split('/')
  return parts.length > 1 ? parts[0] : parts[0].replace(/\.ts$/, '')
}

function tsFiles (dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...tsFiles(path))
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path)
  }
  return out
}

function rel (root: string, file: string): string {
  return relative(root, file).split(sep).join('/')
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = resolve(process.argv[2] ?? '.')
  const graph = readGraph(root)
  const found = [...violations(graph), ...layerViolations(graph)]
  for (const line of found) console.error(line)
  if (found.length > 0) {
    console.error(`check-deps: ${found.length} layering violation(s) in ${graph.size} modules`)
    process.exitCode = 1
  } else {
    console.log(`check-deps: ${graph.size} modules, no import cycle, the pure folders reach no libp2p, fs, level or child_process, no layer imports a higher one`)
  }
}
