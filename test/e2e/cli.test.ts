/**
 * The `spamsync` command line as real processes: export/import between two stopped nodes (each
 * with its own --data-dir and --settings-dir), refusal of hostile archives, keygen, usage errors,
 * help texts, and the one-line failures an operator meets (agent running, agent not running, old
 * Node.js). Every test makes its own temp folder and removes it in `t.after`.
 */
import { test, describe, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { unzipSync, zipSync } from 'fflate'
import { CLI, Cluster, REPO, freePort, runCli } from '../helpers/agents.js'
import { PROTOCOL_VERSION } from '../../src/constants.js'

/** The list datasets and their files in a settings folder. */
const LISTS = ['whitelist', 'blacklist', 'autowhitelist'] as const

/** Every command, in the order `spamsync --help` lists them. */
const COMMANDS = ['init', 'start', 'status', 'sync', 'history', 'rollback', 'render', 'keygen', 'export', 'import', 'validate'] as const

/** A temp folder removed when the test ends, whatever its outcome. */
async function tempDir (t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-cli-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** One stopped node: a data folder and a settings folder, driven through the CLI. */
class Node {
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
function oneLine (stderr: string): string {
  assert.ok(stderr.endsWith('\n'), `stderr should be one terminated line: ${JSON.stringify(stderr)}`)
  const lines = stderr.slice(0, -1).split('\n')
  assert.equal(lines.length, 1, `stderr should be one line, got ${lines.length}:\n${stderr}`)
  assert.doesNotMatch(stderr, /^ {4}at /m, 'no stack trace')
  assert.doesNotMatch(stderr, /unexpected error/, 'an expected error, not a crash')
  return lines[0]
}

/** Every file under a folder (relative path -> size and sha256), to prove nothing changed. */
async function snapshot (dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const name of await readdir(dir, { recursive: true })) {
    const file = join(dir, name)
    const s = await stat(file)
    if (!s.isFile()) continue
    out.set(relative(dir, file), `${s.size} ${createHash('sha256').update(await readFile(file)).digest('hex')}`)
  }
  return out
}

describe('export and import between two nodes', () => {
  test('carries every list entry into a fresh node, which keeps its own comment and invalid lines', async (t) => {
    const root = await tempDir(t)
    const a = await Node.create(root, 'a', {
      whitelist: '# whitelist of A\nFriend@Example.com OK\npartner.example.org\n',
      blacklist: 'spam.example.net\n10.1.2.0/24 bad range\n',
      autowhitelist: '203.0.113.7 auto 2024-01-01\nauto@example.net\n'
    })
    const b = await Node.create(root, 'b', {
      whitelist: "# B's own whitelist: keep me\nnot a valid key!!\nlocal.example.com mine\n",
      blacklist: '# empty on purpose\n\n'
    })
    const zip = join(root, 'a.zip')

    assert.match(a.exportTo(zip), /whitelist 2, blacklist 2, autowhitelist 2/)
    const out = b.importFrom(zip)
    assert.match(out, /whitelist 2 changed of 2, blacklist 2 changed of 2, autowhitelist 2 changed of 2/)

    // B's comment, invalid and own entry lines stay where they were; A's entries are appended sorted.
    assert.equal(await b.read('whitelist'),
      "# B's own whitelist: keep me\nnot a valid key!!\nlocal.example.com mine\nfriend@example.com OK\npartner.example.org\n")
    assert.equal(await b.read('blacklist'), '# empty on purpose\n\n10.1.2.0/24 bad range\nspam.example.net\n')
    assert.equal(await b.read('autowhitelist'), '203.0.113.7 auto 2024-01-01\nauto@example.net\n')
    // A is untouched by exporting.
    assert.equal(await a.read('whitelist'), '# whitelist of A\nFriend@Example.com OK\npartner.example.org\n')
  })

  test('importing the same archive twice changes nothing the second time', async (t) => {
    const root = await tempDir(t)
    const a = await Node.create(root, 'a', {
      whitelist: 'friend@example.com OK\n',
      blacklist: 'spam.example.net\n',
      autowhitelist: 'auto@example.net\n'
    })
    const b = await Node.create(root, 'b', { whitelist: '# B\nlocal.example.com\n' })
    const zip = join(root, 'a.zip')
    a.exportTo(zip)
    b.importFrom(zip)
    const before = new Map<string, { text: Buffer, ino: number, mtimeMs: number }>()
    for (const list of LISTS) {
      const s = await stat(b.path(list))
      before.set(list, { text: await readFile(b.path(list)), ino: s.ino, mtimeMs: s.mtimeMs })
    }

    const out = b.importFrom(zip)
    for (const list of LISTS) assert.match(out, new RegExp(`${list} 0 changed of 1\\b`))
    assert.doesNotMatch(out, /[1-9]\d* changed/)
    for (const list of LISTS) {
      const was = before.get(list)!
      const s = await stat(b.path(list))
      assert.deepEqual(await readFile(b.path(list)), was.text, `${list} byte-identical`)
      assert.equal(s.ino, was.ino, `${list} not rewritten`)
      assert.equal(s.mtimeMs, was.mtimeMs, `${list} not rewritten`)
    }
  })

  test('a line deleted on A after an earlier export/import is deleted on B by the next import (tombstones travel)', async (t) => {
    const root = await tempDir(t)
    const a = await Node.create(root, 'a', { whitelist: 'keep@example.com\ngone@example.com\n', blacklist: 'gone.example.net\nstays.example.net\n' })
    const b = await Node.create(root, 'b', { whitelist: '# B\n' })
    a.exportTo(join(root, 'a1.zip'))
    b.importFrom(join(root, 'a1.zip'))
    assert.deepEqual(await b.keys('whitelist'), ['gone@example.com', 'keep@example.com'])

    await a.write('whitelist', 'keep@example.com\n')
    await a.write('blacklist', 'stays.example.net\n')
    a.exportTo(join(root, 'a2.zip'))
    const out = b.importFrom(join(root, 'a2.zip'))

    assert.match(out, /whitelist 1 changed of 2, blacklist 1 changed of 2/)
    assert.equal(await b.read('whitelist'), '# B\nkeep@example.com\n')
    assert.equal(await b.read('blacklist'), 'stays.example.net\n')
  })

  test('an older archive does not bring back a line deleted since', async (t) => {
    const root = await tempDir(t)
    const a = await Node.create(root, 'a', { whitelist: 'keep@example.com\ngone@example.com\n' })
    const b = await Node.create(root, 'b')
    a.exportTo(join(root, 'a1.zip'))
    b.importFrom(join(root, 'a1.zip'))
    await a.write('whitelist', 'keep@example.com\n')
    a.exportTo(join(root, 'a2.zip'))
    b.importFrom(join(root, 'a2.zip'))

    const out = b.importFrom(join(root, 'a1.zip'))
    assert.match(out, /whitelist 0 changed of 2/)
    assert.deepEqual(await b.keys('whitelist'), ['keep@example.com'])
  })

  test("a newer local edit on B survives the import of A's older archive (last writer wins)", async (t) => {
    const root = await tempDir(t)
    const a = await Node.create(root, 'a', { whitelist: 'shared@example.com from-a-1\nother@example.com\n' })
    const b = await Node.create(root, 'b')
    a.exportTo(join(root, 'a1.zip'))
    b.importFrom(join(root, 'a1.zip'))
    assert.equal(await b.read('whitelist'), 'other@example.com\nshared@example.com from-a-1\n')

    // A changes the value and exports; afterwards B edits the same key (export scans and stamps it).
    await a.write('whitelist', 'shared@example.com from-a-2\nother@example.com\n')
    a.exportTo(join(root, 'a2.zip'))
    await b.write('whitelist', 'other@example.com\nshared@example.com from-b\n')
    b.exportTo(join(root, 'b.zip'))

    const out = b.importFrom(join(root, 'a2.zip'))
    assert.match(out, /whitelist 0 changed of 2/)
    assert.equal(await b.read('whitelist'), 'other@example.com\nshared@example.com from-b\n')
  })
})

describe('a hostile archive is refused with one named line, exit 1, and changes nothing', () => {
  /** Node B with its own lists and state, and A's real export (which B would accept). */
  async function setup (t: TestContext): Promise<{ root: string, b: Node, real: Uint8Array }> {
    const root = await tempDir(t)
    // Enough entries that A's whitelist dominates the archive: the middle byte lies in its data.
    const many = Array.from({ length: 300 }, (_, i) => `user${i}@example${i % 17}.com note ${(i * 7919) % 1000}`).join('\n')
    const a = await Node.create(root, 'a', { whitelist: `friend@example.com OK\n${many}\n`, blacklist: 'spam.example.net\n', autowhitelist: 'auto@example.net\n' })
    const b = await Node.create(root, 'b', { whitelist: '# B\nnot a valid key!!\nlocal.example.com\n', blacklist: 'b-only.example.net\n' })
    a.exportTo(join(root, 'a.zip'))
    b.exportTo(join(root, 'b.zip')) // gives B a data folder with state in it
    return { root, b, real: await readFile(join(root, 'a.zip')) }
  }

  /** Imports `zip` into B and asserts the refusal and that B's files and data are unchanged. */
  async function refuses (root: string, b: Node, zip: Uint8Array, errorName: RegExp): Promise<string> {
    const file = join(root, 'hostile.zip')
    await writeFile(file, zip)
    const settings = await snapshot(b.settingsDir)
    const data = await snapshot(b.dataDir)
    assert.ok(data.size > 0)
    const cwd = join(root, 'cwd')
    await mkdir(cwd, { recursive: true })

    const r = b.tryImport(file, cwd)
    assert.equal(r.code, 1, `exit code 1, got ${r.code}: ${r.stderr}`)
    assert.equal(r.stdout, '')
    const line = oneLine(r.stderr)
    assert.match(line, errorName)
    assert.match(line, /^spamsync: \w+Error: /)
    assert.deepEqual(await snapshot(b.settingsDir), settings, 'settings folder unchanged')
    assert.deepEqual(await snapshot(b.dataDir), data, 'data folder unchanged')
    return line
  }

  test('an entry named ../evil: UnsafeEntryNameError', async (t) => {
    const { root, b, real } = await setup(t)
    const files = unzipSync(real)
    const zip = zipSync({ ...files, '../evil': new TextEncoder().encode('pwned\n') })
    const line = await refuses(root, b, zip, /UnsafeEntryNameError/)
    assert.match(line, /\.\.\/evil/)
    assert.equal(existsSync(join(root, 'evil')), false)
    assert.equal(existsSync(join(root, 'cwd', 'evil')), false)
  })

  test('a truncated copy of a real export: CorruptArchiveError', async (t) => {
    const { root, b, real } = await setup(t)
    await refuses(root, b, real.subarray(0, Math.floor(real.length * 2 / 3)), /CorruptArchiveError/)
  })

  test('a real export with one byte flipped in the middle: a named corruption error', async (t) => {
    const { root, b, real } = await setup(t)
    const zip = Uint8Array.from(real)
    zip[Math.floor(zip.length / 2)] ^= 0xff
    // The byte lies in the whitelist's deflate data. Depending on the stamps in it, the damaged
    // stream fails to inflate or inflates to the wrong size or CRC (CorruptArchiveError), or to
    // more bytes than declared (CompressionBombError); a sha256 mismatch would be the last net.
    await refuses(root, b, zip, /^spamsync: (CorruptArchiveError|ChecksumMismatchError|CompressionBombError): entry "whitelist\.list"/)
  })

  test('a manifest with formatVersion 2: ManifestError', async (t) => {
    const { root, b, real } = await setup(t)
    const files = unzipSync(real)
    const manifest = JSON.parse(new TextDecoder().decode(files['manifest.json']))
    assert.equal(manifest.formatVersion, 1)
    manifest.formatVersion = 2
    const zip = zipSync({ ...files, 'manifest.json': new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n') })
    const line = await refuses(root, b, zip, /ManifestError/)
    assert.match(line, /format version 2/)
  })
})

describe('keygen', () => {
  test('writes the key file with mode 0600', async (t) => {
    const root = await tempDir(t)
    const file = join(root, 'cluster.key')
    const r = runCli(['keygen', '--out', file])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, '')
    assert.equal((await stat(file)).mode & 0o777, 0o600)
    assert.match(await readFile(file, 'utf8'), /^spamsync-cluster-key\/1\n[0-9a-f]{64}\n$/)
  })

  test('refuses to overwrite an existing file: one line, ClusterKeyError, exit 1', async (t) => {
    const root = await tempDir(t)
    const file = join(root, 'cluster.key')
    await writeFile(file, 'precious\n')
    const r = runCli(['keygen', '--out', file])
    assert.equal(r.code, 1)
    assert.match(oneLine(r.stderr), /ClusterKeyError/)
    assert.equal(await readFile(file, 'utf8'), 'precious\n')
  })
})

describe('usage errors print one line and exit 2', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['a wrong flag', ['export', '--bogus', 'x.zip'], /--bogus/],
    ['a missing argument', ['export'], /missing argument/],
    ['an extra argument', ['export', 'a.zip', 'b.zip'], /unexpected argument 'b\.zip'/],
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/]
  ]
  for (const [what, args, message] of cases) {
    test(`${what} (spamsync ${args.join(' ')})`, async (t) => {
      const cwd = await tempDir(t)
      const r = runCli(args, { cwd })
      assert.equal(r.code, 2, `exit 2, got ${r.code}: ${r.stderr}`)
      assert.equal(r.stdout, '')
      assert.match(oneLine(r.stderr), message)
      assert.deepEqual(await readdir(cwd), [], 'nothing written')
    })
  }
})

describe('help', () => {
  for (const command of COMMANDS) {
    test(`spamsync ${command} --help exits 0 with its usage line`, () => {
      const r = runCli([command, '--help'])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stderr, '')
      assert.match(r.stdout, new RegExp(`^Usage: spamsync ${command}\\b`, 'm'))
    })
  }

  test('spamsync --help lists every command', () => {
    const r = runCli(['--help'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, '')
    for (const command of COMMANDS) assert.match(r.stdout, new RegExp(`^ +${command} +\\S`, 'm'), `lists ${command}`)
  })

  test('spamsync --version names the agent, protocol and Node.js versions', async () => {
    const r = runCli(['--version'])
    assert.equal(r.code, 0, r.stderr)
    const { version } = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8'))
    assert.equal(r.stdout, `spamsync ${version} (protocol ${PROTOCOL_VERSION}, Node.js ${process.versions.node})\n`)
  })
})

describe('one-line failures', () => {
  test('export while an agent runs on the same data folder fails with DataDirInUseError, exit 1', { timeout: 60_000 }, async (t) => {
    const cluster = await Cluster.create()
    t.after(async () => { await cluster.cleanup() })
    const agent = await cluster.add()
    await agent.start()
    const zip = join(cluster.root, 'while-running.zip')

    const r = runCli(['export', '--data-dir', agent.dataDir, '--settings-dir', agent.settingsDir, zip])
    assert.equal(r.code, 1, r.stderr)
    assert.equal(r.stdout, '')
    assert.match(oneLine(r.stderr), /DataDirInUseError/)
    assert.equal(existsSync(zip), false)
    assert.equal(agent.proc?.exitCode, null, 'the agent still runs')
  })

  test('status with no agent on the port fails with AgentUnreachableError, exit 1', async () => {
    const port = await freePort()
    const r = runCli(['status', '--http-port', String(port)])
    assert.equal(r.code, 1, r.stderr)
    assert.equal(r.stdout, '')
    const line = oneLine(r.stderr)
    assert.match(line, /AgentUnreachableError/)
    assert.match(line, new RegExp(`127\\.0\\.0\\.1:${port}\\b`))
  })

  test('an old Node.js is refused with one clear line', (t) => {
    const old = oldSystemNode()
    if (typeof old !== 'object') {
      t.skip(old)
      return
    }
    const r = spawnSync(old.path, [CLI, '--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    assert.equal(r.status, 1, `${old.path} (${old.version}): ${r.stderr}`)
    assert.equal(r.stdout, '')
    const line = oneLine(r.stderr)
    assert.match(line, /UnsupportedRuntimeError/)
    assert.ok(line.includes('Node.js >= 22'), line)
    assert.ok(line.includes(old.version), line)
  })
})

/** A system Node.js older than 22 ({path, version}), or why there is none. */
function oldSystemNode (): { path: string, version: string } | string {
  let found: string[] = []
  try {
    found = execFileSync('which', ['-a', 'node'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')
  } catch {}
  const candidates = [...new Set([...found.map(p => p.trim()), '/usr/bin/node', '/usr/local/bin/node'])]
    .filter(p => p !== '' && !p.includes('node_modules') && existsSync(p))
  const seen: string[] = []
  for (const path of candidates) {
    let version: string
    try {
      version = execFileSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    } catch {
      continue
    }
    seen.push(`${path} ${version}`)
    if (Number(version.split('.')[0]) < 22) return { path, version }
  }
  return `no Node.js older than 22 on this machine (found: ${seen.join(', ') || 'none outside node_modules'})`
}
