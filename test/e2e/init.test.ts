/**
 * `spamsync init` as a real process: the files it writes and their modes, the refusal to
 * overwrite, and `spamsync start --config` from another working folder running on what it wrote.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { loadConfig, stripLineComments } from '../../src/config.js'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI, freePort, runCli, waitFor } from '../helpers/agents.js'

/** A temp folder removed when the test ends, whatever its outcome. */
async function tempDir (t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-init-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** Permission bits of a file. */
async function mode (path: string): Promise<number> {
  return (await stat(path)).mode & 0o777
}

test('init writes a config, a 0600 cluster key and a settings folder, and prints the next step', async (t) => {
  const dir = join(await tempDir(t), 'spamsync')
  const r = runCli(['init', '--dir', dir])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stderr, '')
  assert.ok(r.stdout.includes(`spamsync start --config ${join(dir, 'spamsync.json')}`), r.stdout)
  assert.match(r.stdout, /cluster\.key/)

  assert.equal(await mode(join(dir, 'cluster.key')), 0o600)
  assert.match(await readFile(join(dir, 'cluster.key'), 'utf8'), /^spamsync-cluster-key\/1\n[0-9a-f]{64}\n$/)
  const text = await readFile(join(dir, 'spamsync.json'), 'utf8')
  // Every key is explained by a comment line above it.
  assert.match(text, /\/\/ election priority, higher wins.*\n\s*"priority": 0/)
  const config = JSON.parse(stripLineComments(text))
  assert.equal(config.dataDir, 'data')
  assert.equal(config.settingsDir, 'settings')
  assert.equal(config.clusterKey, 'cluster.key')
  assert.deepEqual(config.hooks, { afterApply: '', timeoutSeconds: 60 })
  assert.equal(config.uploadIntervalHours, 0)
  // One disabled example of each output format, which the agent reads as no outputs.
  assert.deepEqual([...new Set(config.outputs.map((o: { format: string }) => o.format))], ['postfix-access', 'postfix-cidr', 'spamassassin', 'rspamd-from', 'rspamd-ip'])
  assert.ok(config.outputs.every((o: { enabled: boolean }) => o.enabled === false))
  assert.deepEqual((await loadConfig({ file: join(dir, 'spamsync.json') })).outputs, [])
  assert.equal((await mode(join(dir, 'spamsync.json'))) & 0o600, 0o600, 'the owner can read and write the config')
  for (const list of ['whitelist', 'blacklist', 'autowhitelist']) {
    const text = await readFile(join(dir, 'settings', `${list}.txt`), 'utf8')
    assert.match(text, new RegExp(`^# spamsync ${list}: .*KEY \\[VALUE\\]`), list)
    assert.equal(text.split('\n').filter(l => l !== '').length, 1, `${list} holds only its comment line`)
  }
})

test('a second init refuses with one line and changes nothing', async (t) => {
  const dir = await tempDir(t)
  assert.equal(runCli(['init', '--dir', dir]).code, 0)
  const key = await readFile(join(dir, 'cluster.key'), 'utf8')
  await writeFile(join(dir, 'settings', 'blacklist.txt'), 'spam.example.com\n')
  const r = runCli(['init', '--dir', dir])
  assert.equal(r.code, 1)
  assert.equal(r.stdout, '')
  assert.match(r.stderr, /^spamsync: FileAccessError: .*spamsync\.json exists already; refusing to overwrite a config\n$/)
  assert.equal(await readFile(join(dir, 'cluster.key'), 'utf8'), key)
  assert.equal(await readFile(join(dir, 'settings', 'blacklist.txt'), 'utf8'), 'spam.example.com\n')
})

test('init keeps a cluster key copied there from another server, and existing list files', async (t) => {
  const dir = await tempDir(t)
  assert.equal(runCli(['keygen', '--out', join(dir, 'cluster.key')]).code, 0)
  const key = await readFile(join(dir, 'cluster.key'), 'utf8')
  await mkdir(join(dir, 'settings'))
  await writeFile(join(dir, 'settings', 'whitelist.txt'), 'friend@example.com\n')
  const r = runCli(['init', '--dir', dir])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /kept the existing cluster key/)
  assert.equal(await readFile(join(dir, 'cluster.key'), 'utf8'), key)
  assert.equal(await readFile(join(dir, 'settings', 'whitelist.txt'), 'utf8'), 'friend@example.com\n')
})

test('init --data-dir writes that folder into the config', async (t) => {
  const dir = await tempDir(t)
  const r = runCli(['init', '--dir', dir, '--data-dir', '/var/lib/spamsync'])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(JSON.parse(stripLineComments(await readFile(join(dir, 'spamsync.json'), 'utf8'))).dataDir, '/var/lib/spamsync')
})

test('init --without-config writes the key and the lists next to a config it leaves alone, and no config where none is', async (t) => {
  // The Debian package's postinst: its config is a conffile, dpkg owns it.
  const dir = await tempDir(t)
  await writeFile(join(dir, 'spamsync.json'), '{ "dataDir": "/var/lib/spamsync" }\n')
  const r = runCli(['init', '--dir', dir, '--without-config'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /wrote a new cluster key/)
  assert.equal(await readFile(join(dir, 'spamsync.json'), 'utf8'), '{ "dataDir": "/var/lib/spamsync" }\n')
  assert.equal(await mode(join(dir, 'cluster.key')), 0o600)
  for (const list of ['whitelist', 'blacklist', 'autowhitelist']) assert.match(await readFile(join(dir, 'settings', `${list}.txt`), 'utf8'), /^# spamsync /, list)

  const bare = join(await tempDir(t), 'etc')
  assert.equal(runCli(['init', '--dir', bare, '--without-config']).code, 0)
  assert.equal(existsSync(join(bare, 'spamsync.json')), false)
  assert.equal(existsSync(join(bare, 'cluster.key')), true)
})

test('init refuses a malformed key file in the folder', async (t) => {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'cluster.key'), 'not a key\n')
  const r = runCli(['init', '--dir', dir])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /^spamsync: ClusterKeyError: .*not a spamsync cluster key/)
  assert.equal(existsSync(join(dir, 'spamsync.json')), false)
  assert.equal(existsSync(join(dir, 'settings')), false)
})

test('init --help and a stray argument', () => {
  const help = runCli(['init', '--help'])
  assert.equal(help.code, 0)
  assert.match(help.stdout, /^Usage: spamsync init \[--dir DIR\]/)
  assert.equal(runCli(['init', 'somewhere']).code, 2)
})

test('spamsync start --config runs on what init wrote, from another working folder', { timeout: 60_000 }, async (t) => {
  const root = await tempDir(t)
  const dir = join(root, 'etc')
  const elsewhere = join(root, 'cwd')
  await mkdir(elsewhere)
  assert.equal(runCli(['init', '--dir', dir]).code, 0)
  await writeFile(join(dir, 'settings', 'blacklist.txt'), '# blacklist\nspam.example.com\n')

  const httpPort = await freePort()
  const proc = spawn(process.execPath, [CLI, 'start', '--config', join(dir, 'spamsync.json'), '--no-mdns', '--http-port', String(httpPort),
    '--listen', `/ip4/127.0.0.1/tcp/${await freePort()}`, '--log-level', 'warn'], { cwd: elsewhere, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  proc.stdout.on('data', (d) => { output += String(d) })
  proc.stderr.on('data', (d) => { output += String(d) })
  t.after(async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return
    const exited = new Promise(resolve => proc.once('exit', resolve))
    proc.kill('SIGTERM')
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  })

  const status = await waitFor('the agent to answer', async () => {
    if (proc.exitCode !== null) throw new Error(`agent exited with ${proc.exitCode}: ${output}`)
    const res = await fetch(`http://127.0.0.1:${httpPort}/status`, { signal: AbortSignal.timeout(2000) })
    return await res.json() as any
  })
  assert.equal(status.datasets.blacklist.entries, 1, 'the settings folder is the one next to the config')
  assert.ok(existsSync(join(dir, 'data')), 'the data folder is next to the config')
  assert.equal(existsSync(join(elsewhere, 'data')), false, 'nothing is written in the working folder')
  assert.equal(existsSync(join(dir, 'data', 'cluster.key')), false, 'the cluster key is the one init wrote')
})
