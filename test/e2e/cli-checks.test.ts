/**
 * The CLI without surprises, as real processes: usage without a command, suggestions for typos,
 * aligned help, one-line failures of `start` before it writes anything, `validate`, explicit
 * paths that must exist, `export`/`import` that never make a node in the working folder, and
 * the client commands finding the agent through --config and SPAMSYNC_* like `start` does.
 * Every test makes its own temp folder and removes it (and stops its agent) in `t.after`.
 */
import { test, describe, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI, freePort, runCli, waitFor } from '../helpers/agents.js'

async function tempDir (t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-checks-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** Asserts one line on stderr, no stack, no crash; returns it. */
function oneLine (stderr: string): string {
  assert.ok(stderr.endsWith('\n'), `stderr should be one terminated line: ${JSON.stringify(stderr)}`)
  const lines = stderr.slice(0, -1).split('\n')
  assert.equal(lines.length, 1, `stderr should be one line, got ${lines.length}:\n${stderr}`)
  assert.doesNotMatch(stderr, /unexpected error/, 'an expected error, not a crash')
  return lines[0]
}

/** A TCP server holding a port on 127.0.0.1 until the test ends. */
async function holdPort (t: TestContext): Promise<number> {
  const srv: Server = createServer()
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  t.after(async () => { await new Promise(resolve => srv.close(resolve)) })
  const addr = srv.address()
  return typeof addr === 'object' && addr !== null ? addr.port : 0
}

async function exists (path: string): Promise<boolean> {
  return await stat(path).then(() => true, () => false)
}

describe('usage', () => {
  test('no command prints the usage to stderr and exits 2', () => {
    const r = runCli([])
    assert.equal(r.code, 2)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /Usage: spamsync COMMAND/)
  })

  test('a mistyped command or option is answered with the nearest valid one, on one line', () => {
    assert.match(oneLine(runCli(['stat']).stderr), /unknown command 'stat' \(did you mean start\?\)/)
    let r = runCli(['start', '--listn', '/ip4/127.0.0.1/tcp/0'])
    assert.equal(r.code, 2)
    assert.match(oneLine(r.stderr), /unknown option '--listn' \(did you mean --listen\?\)/)
    assert.match(oneLine(runCli(['start', '--no-mdn']).stderr), /did you mean --no-mdns\?/)
    r = runCli(['status', '--http-prot', '1'])
    assert.match(oneLine(r.stderr), /did you mean --http-port\?/)
    assert.doesNotMatch(oneLine(runCli(['status', '--zzzzzzzz']).stderr), /did you mean/)
  })

  test('start --help has its descriptions in one column, two spaces after the longest flag', () => {
    const r = runCli(['start', '--help'])
    assert.equal(r.code, 0)
    const rows = r.stdout.split('\n').filter(l => l.startsWith('  --'))
    assert.ok(rows.length > 20)
    const columns = new Set(rows.map(l => /^ {2}--\S+(?: \S+)? {2,}/.exec(l)?.[0].length))
    assert.equal(columns.size, 1, `one description column, got ${[...columns].join(', ')}:\n${rows.join('\n')}`)
    assert.ok(!columns.has(undefined), 'every flag is followed by two spaces')
  })

  test('a negative number after a flag is its value; one out of range is one line', async (t) => {
    const dir = await tempDir(t)
    let r = runCli(['validate', '--priority', '-5', '--no-mdns'], { cwd: dir })
    assert.equal(r.code, 0, r.stderr + r.stdout)
    r = runCli(['validate', '--priority', '-2000000'], { cwd: dir })
    assert.equal(r.code, 1)
    assert.match(oneLine(r.stderr), /ConfigError: --priority: priority must be a whole number from -1000000 to 1000000, got -2000000/)
  })
})

describe('start fails in one line and writes nothing', () => {
  /**
   * Runs `start` in an empty folder with the given flags; asserts the folder stays empty. A start
   * that does not fail (and would run on) is killed after 30 s and fails the test.
   */
  async function failsCleanly (t: TestContext, args: string[], pattern: RegExp): Promise<void> {
    const dir = await tempDir(t)
    const r = spawnSync(process.execPath, [CLI, 'start', '--no-mdns', ...args], { cwd: dir, encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' })
    assert.equal(r.status, 1, `${r.signal ?? ''} ${r.stdout} ${r.stderr}`)
    assert.match(oneLine(r.stderr), pattern)
    assert.deepEqual(await readdir(dir), [], 'nothing written')
  }

  test('a bad --listen multiaddr', async (t) => {
    await failsCleanly(t, ['--listen', 'garbage', '--http-port', '0'], /ConfigError: listen: 'garbage' is not a multiaddr/)
  })

  test('a libp2p port in use', async (t) => {
    const port = await holdPort(t)
    await failsCleanly(t, ['--listen', `/ip4/127.0.0.1/tcp/${port}`, '--http-port', '0'], new RegExp(`PortInUseError: libp2p listen port ${port} `))
  })

  test('an HTTP port in use', async (t) => {
    const port = await holdPort(t)
    await failsCleanly(t, ['--listen', '/ip4/127.0.0.1/tcp/0', '--http-port', String(port)], new RegExp(`PortInUseError: HTTP port ${port} `))
  })

  test('an explicit --cluster-key that does not exist is not made', async (t) => {
    await failsCleanly(t, ['--listen', '/ip4/127.0.0.1/tcp/0', '--http-port', '0', '--cluster-key', 'typo.key'], /ClusterKeyError: cluster key typo\.key does not exist/)
  })

  test('an explicit --settings-dir that does not exist is not made', async (t) => {
    await failsCleanly(t, ['--listen', '/ip4/127.0.0.1/tcp/0', '--http-port', '0', '--settings-dir', 'setings'], /FileAccessError: settingsDir setings does not exist/)
  })
})

describe('export and import never make a node in the working folder', () => {
  for (const verb of ['export', 'import']) {
    test(`${verb} without --config where there is no data folder`, async (t) => {
      const dir = await tempDir(t)
      const r = runCli([verb, join(dir, 'x.zip')], { cwd: dir })
      assert.equal(r.code, 1)
      assert.match(oneLine(r.stderr), /no data folder \.\/spamsync-data here: point --config/)
      assert.deepEqual(await readdir(dir), [])
    })
  }
})

describe('validate', () => {
  test('passes a fresh init, then names each broken part on its own line', async (t) => {
    const dir = await tempDir(t)
    assert.equal(runCli(['init', '--dir', dir]).code, 0)
    const config = join(dir, 'spamsync.json')
    let r = runCli(['validate', '--config', config])
    assert.equal(r.code, 0, r.stdout)
    assert.match(r.stdout, /^ok {4}clusterKey/m)

    await writeFile(join(dir, 'hook.sh'), '#!/bin/sh\n')
    await chmod(join(dir, 'hook.sh'), 0o755)
    r = runCli(['validate', '--config', config, '--hooks-after-apply', './hook.sh --all'])
    assert.equal(r.code, 0, r.stdout)
    assert.match(r.stdout, new RegExp(`hooksAfterApply: ${join(dir, 'hook.sh')}`), 'relative to the config file, not the working folder')

    r = runCli(['validate', '--config', config, '--cluster-key', join(dir, 'nokey'), '--settings-dir', join(dir, 'nosettings'),
      '--bayes-export-command', 'no-such-program-here --backup', '--listen', 'garbage'])
    assert.equal(r.code, 1)
    assert.match(r.stdout, /^FAIL {2}addresses {4}ConfigError: listen: 'garbage'/m)
    assert.match(r.stdout, /^FAIL {2}settingsDir {2}FileAccessError: .*nosettings does not exist/m)
    assert.match(r.stdout, /^FAIL {2}clusterKey {3}ClusterKeyError: .*nokey does not exist/m)
    assert.match(r.stdout, /^FAIL {2}commands {5}CommandNotFoundError: bayesExportCommand: program 'no-such-program-here' not found on PATH/m)
    assert.ok(!await exists(join(dir, 'nokey')) && !await exists(join(dir, 'nosettings')), 'validate makes nothing')
  })

  test("checks each output's folder and command program", async (t) => {
    const dir = await tempDir(t)
    assert.equal(runCli(['init', '--dir', dir]).code, 0)
    await mkdir(join(dir, 'ro'))
    await writeFile(join(dir, 'ro', 'blocker'), 'a file where a folder should be')
    const config = join(dir, 'outputs.json')
    const write = async (outputs: unknown[]): Promise<void> => {
      await writeFile(config, JSON.stringify({ dataDir: 'data', settingsDir: 'settings', clusterKey: 'cluster.key', outputs }))
    }
    await write([{ format: 'postfix-access', datasets: ['blacklist'], path: 'maps/new/sender_access', command: 'true' }])
    let r = runCli(['validate', '--config', config])
    assert.equal(r.code, 0, r.stdout)
    assert.match(r.stdout, /^ok {4}outputs {6}postfix-access .*sender_access \(folder made under /m)

    await write([
      { format: 'postfix-cidr', datasets: ['blacklist'], path: 'ro/blocker/client.cidr' },
      { format: 'spamassassin', datasets: ['whitelist'], path: 'sa/spamsync.cf', command: 'no-such-reloader --now' }
    ])
    r = runCli(['validate', '--config', config])
    assert.equal(r.code, 1)
    assert.match(r.stdout, /^FAIL {2}outputs {6}FileAccessError: .*blocker, on the way to .*client\.cidr, is a file/m)
    assert.ok(!await exists(join(dir, 'maps')) && !await exists(join(dir, 'sa')), 'validate makes no folder')

    await write([{ format: 'spamassassin', datasets: ['whitelist'], path: 'sa/spamsync.cf', command: 'no-such-reloader --now' }])
    r = runCli(['validate', '--config', config])
    assert.equal(r.code, 1)
    assert.match(r.stdout, /^FAIL {2}outputs {6}CommandNotFoundError: command of .*spamsync\.cf: program 'no-such-reloader' not found/m)
  })

  test('a config with an unknown key fails in one line naming the nearest key', async (t) => {
    const dir = await tempDir(t)
    const config = join(dir, 'c.json')
    await writeFile(config, JSON.stringify({ settingDir: 'settings' }))
    const r = runCli(['validate', '--config', config])
    assert.equal(r.code, 1)
    assert.match(oneLine(r.stderr), /unknown key settingDir \(did you mean settingsDir\?\)/)
  })
})

describe('an agent on one address, found through --config and SPAMSYNC_*', () => {
  test('status, sync, history and rollback reach it; defaults made in the working folder; commands run in the config folder', async (t) => {
    const dir = await tempDir(t)
    const conf = join(dir, 'conf')
    await mkdir(conf)
    // The Bayes export runs before each scan (sync --upload): its relative path is the config folder's.
    await writeFile(join(conf, 'export.sh'), '#!/bin/sh\ntouch ran-here\n')
    await chmod(join(conf, 'export.sh'), 0o755)
    const httpPort = await freePort()
    const config = join(conf, 'spamsync.json')
    // 127.0.0.2: the CLI must dial the configured address, not 127.0.0.1.
    await writeFile(config, JSON.stringify({ httpHost: '127.0.0.2', httpPort, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, role: 'master', bayes: { exportCommand: './export.sh', scanIntervalSeconds: 0 } }))

    let output = ''
    const proc: ChildProcess = spawn(process.execPath, [CLI, 'start', '--config', config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    proc.stdout?.on('data', (d) => { output += String(d) })
    proc.stderr?.on('data', (d) => { output += String(d) })
    t.after(async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      const exited = new Promise(resolve => proc.once('exit', resolve))
      proc.kill('SIGKILL')
      await exited
    })
    await waitFor('the agent to be master, answering on 127.0.0.2', async () => {
      if (proc.exitCode !== null) throw new Error(`agent exited: ${output}`)
      const res = await fetch(`http://127.0.0.2:${httpPort}/status`, { signal: AbortSignal.timeout(2000) })
      return (await res.json() as { role: string }).role === 'master'
    }, 60_000)
    // The defaults, relative to the working folder, were made on first start.
    assert.ok(await exists(join(dir, 'settings', 'whitelist.txt')))
    assert.ok(await exists(join(dir, 'spamsync-data', 'cluster.key')))

    const opts = { cwd: dir }
    let r = runCli(['status', '--config', config], opts)
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^role {6}master/m)
    r = runCli(['status', '--json'], { cwd: dir, env: { SPAMSYNC_HTTP_HOST: '127.0.0.2', SPAMSYNC_HTTP_PORT: String(httpPort) } })
    assert.equal(r.code, 0, r.stderr)
    r = runCli(['status', '--http-host', '127.0.0.2', '--http-port', String(httpPort)], opts)
    assert.equal(r.code, 0, r.stderr)

    r = runCli(['sync', '--config', config], opts)
    assert.equal(r.code, 0, r.stderr)
    assert.ok(await exists(join(conf, 'ran-here')), 'the export command ran in the config folder')
    assert.ok(!await exists(join(dir, 'ran-here')))

    r = runCli(['history', '--config', config, '--json'], opts)
    assert.equal(r.code, 0, r.stderr)
    const versions = JSON.parse(r.stdout)
    assert.ok(versions.length > 0, r.stdout)
    const v = versions[0].version
    r = runCli(['rollback', `${v.term as number}.${v.seq as number}`, '--config', config], opts)
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /rolled the lists back/)
  })
})
