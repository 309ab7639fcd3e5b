/**
 * `spamsync start` as a service user that cannot write its settings folder (EACCES): one clear
 * line and exit code 1, not an agent that retries (and logs) a failing write every heartbeat.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmod, chown, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI, REPO } from '../helpers/agents.js'

/** The user the agent runs as: nobody, so permission bits apply (the tests run as root). */
const NOBODY = 65534

test('start refuses a settings folder it cannot write with one line and exit code 1', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'spamsync-unwritable-'))
  t.after(async () => { await rm(root, { recursive: true, force: true }) })
  await chmod(root, 0o755)
  const data = join(root, 'data')
  const settings = join(root, 'settings')
  await mkdir(data)
  await chown(data, NOBODY, NOBODY)
  await mkdir(settings, { mode: 0o755 })
  // A time limit, so an agent that starts anyway (the fault) ends the test rather than hang it.
  const r = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, CLI, 'start',
    '--data-dir', data, '--settings-dir', settings, '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--http-port', '0', '--log-level', 'silent'],
  { cwd: REPO, encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' })
  assert.equal(r.error, undefined)
  assert.equal(r.status, 1, r.stderr)
  assert.equal(r.stdout, '')
  assert.match(r.stderr, new RegExp(`^spamsync: FileAccessError: settings folder ${settings} is not writable \\(EACCES\\): .*\\n$`))
  assert.equal(r.stderr.split('\n').length, 2, 'one line')
})
