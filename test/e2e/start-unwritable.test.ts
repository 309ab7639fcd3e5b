/**
 * `spamsync start` with a settings folder it cannot write: one clear line and exit code 1, not
 * an agent that retries (and logs) a failing write every heartbeat.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI, REPO } from '../helpers/agents.js'

test('start refuses an unwritable settings folder with one line and exit code 1', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-unwritable-'))
  const settings = join(dir, 'settings')
  await mkdir(settings)
  // Immutable: even root (the tests run as root) cannot create a file in it, as EACCES for a service user.
  execFileSync('chattr', ['+i', settings])
  t.after(async () => {
    execFileSync('chattr', ['-i', settings])
    await rm(dir, { recursive: true, force: true })
  })
  // A time limit, so an agent that starts anyway (the fault) ends the test rather than hang it.
  const r = spawnSync(process.execPath, [CLI, 'start', '--data-dir', join(dir, 'data'), '--settings-dir', settings, '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--http-port', '0', '--log-level', 'silent'],
    { cwd: REPO, encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' })
  assert.equal(r.status, 1)
  assert.equal(r.stdout, '')
  assert.match(r.stderr, new RegExp(`^spamsync: FileAccessError: settings folder ${settings} is not writable \\((EPERM|EACCES)\\): .*\\n$`))
  assert.equal(r.stderr.split('\n').length, 2, 'one line')
})
