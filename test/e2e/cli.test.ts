/**
 * The `spamsync` command line as real processes: keygen, usage errors, help texts, and the
 * one-line failures an operator meets (agent running, agent not running, old Node.js). Export
 * and import are in cli-archives.test.ts. Every test makes its own temp folder and removes it in
 * `t.after`.
 */
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CLI, Cluster, REPO, freePort, runCli } from '../helpers/agents.js'
import { PROTOCOL_VERSION } from '../../src/constants.js'
import { tempDir, oneLine } from '../helpers/cli-node.js'

/** Every command, in the order `spamsync --help` lists them. */
const COMMANDS = ['init', 'start', 'status', 'sync', 'history', 'rollback', 'render', 'keygen', 'export', 'import', 'validate'] as const

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
