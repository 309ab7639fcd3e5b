/**
 * Stopped nodes driven through the `spamsync` command line, for the e2e CLI tests: each a data
 * folder and a settings folder in a temp folder removed when the test ends.
 */
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { runCli } from './agents.js'

/** The list datasets and their files in a settings folder. */
export const LISTS = ['whitelist', 'blacklist', 'autowhitelist'] as const


/** A temp folder removed when the test ends, whatever its outcome. */
export async function tempDir (t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-cli-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** One stopped node: a data folder and a settings folder, driven through the CLI. */
export class Node {
  constructor (readonly dir: string) {}

  get dataDir (): string { return join(this.dir, 'data') }
  get settingsDir (): string { return join(this.dir, 'settings') }

  /** Makes the folders and writes the given list files. */
  static async create (root: string, name: string, lists: Partial<Record<typeof LISTS[number], string>> = {}): Promise<Node> {
    const node = new Node(join(root, name))
    await mkdir(node.settingsDir, { recursive: true })
    for (const [list, text] of Object.entries(lists)) await node.write(list, text)
    return node
  }

  path (list: string): string { return join(this.settingsDir, `${list}.txt`) }
  async read (list: string): Promise<string> { return await readFile(this.path(list), 'utf8') }
  async write (list: string, text: string): Promise<void> { await writeFile(this.path(list), text) }

  /** The keys of the entry lines of a list file, sorted. */
  async keys (list: string): Promise<string[]> {
    return (await this.read(list)).split('\n').map(l => l.trim())
      .filter(l => l !== '' && !l.startsWith('#')).map(l => l.split(/\s+/)[0]).sort()
  }

  private folders (): string[] { return ['--data-dir', this.dataDir, '--settings-dir', this.settingsDir] }

  /** `spamsync export FILE`; fails the test unless it succeeds. */
  exportTo (file: string): string {
    const r = runCli(['export', ...this.folders(), file])
    assert.equal(r.code, 0, `export failed: ${r.stderr}`)
    assert.equal(r.stderr, '')
    return r.stdout
  }

  /** `spamsync import FILE`, whatever the outcome. */
  tryImport (file: string, cwd?: string): { code: number, stdout: string, stderr: string } {
    return runCli(['import', ...this.folders(), file], { cwd })
  }

  /** `spamsync import FILE`; fails the test unless it succeeds. */
  importFrom (file: string): string {
    const r = this.tryImport(file)
    assert.equal(r.code, 0, `import failed: ${r.stderr}`)
    assert.equal(r.stderr, '')
    return r.stdout
  }
}

/** Asserts that a CLI run wrote exactly one line to stderr and no stack trace; returns it. */
export function oneLine (stderr: string): string {
  assert.ok(stderr.endsWith('\n'), `stderr should be one terminated line: ${JSON.stringify(stderr)}`)
  const lines = stderr.slice(0, -1).split('\n')
  assert.equal(lines.length, 1, `stderr should be one line, got ${lines.length}:\n${stderr}`)
  assert.doesNotMatch(stderr, /^ {4}at /m, 'no stack trace')
  assert.doesNotMatch(stderr, /unexpected error/, 'an expected error, not a crash')
  return lines[0]
}

/** Every file under a folder (relative path -> size and sha256), to prove nothing changed. */
export async function snapshot (dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const name of await readdir(dir, { recursive: true })) {
    const file = join(dir, name)
    const s = await stat(file)
    if (!s.isFile()) continue
    out.set(relative(dir, file), `${s.size} ${createHash('sha256').update(await readFile(file)).digest('hex')}`)
  }
  return out
}
