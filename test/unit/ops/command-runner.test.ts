import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { assertSucceeded, runCommand, STDERR_TAIL_BYTES, succeeded } from '../../../src/ops/command-runner.js'
import { CommandFailedError } from '../../../src/errors.js'

/** A fresh folder, removed when the test ends. */
async function tempDir (t: TestContext): Promise<string> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'spamsync-cmd-')))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Live (not zombie) processes whose command line contains `marker`. */
function liveProcessesWith (marker: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' })
  return out.split('\n').filter((l) => l.includes(marker) && !/^\s*\d+\s+Z/.test(l))
}

describe('runCommand', () => {
  test('reports a successful command', async () => {
    const r = await runCommand('true', { timeoutMs: 5000 })
    assert.equal(r.exitCode, 0)
    assert.equal(r.signal, null)
    assert.equal(r.timedOut, false)
    assert.equal(r.aborted, false)
    assert.equal(r.stderrTail, '')
    assert.ok(r.durationMs >= 0)
    assert.ok(succeeded(r))
    assertSucceeded(r)
  })

  test('runs through /bin/sh, so redirections work', async (t) => {
    const dir = await tempDir(t)
    const r = await runCommand('echo hello > out.txt && echo world >> out.txt', { cwd: dir, timeoutMs: 5000 })
    assertSucceeded(r)
    assert.equal(await readFile(join(dir, 'out.txt'), 'utf8'), 'hello\nworld\n')
  })

  test('reports a non-zero exit without throwing, with the stderr tail', async () => {
    const r = await runCommand('echo first >&2; echo "bad thing happened" >&2; exit 2', { timeoutMs: 5000 })
    assert.equal(r.exitCode, 2)
    assert.equal(r.timedOut, false)
    assert.equal(r.stderrTail, 'first\nbad thing happened\n')
    assert.equal(succeeded(r), false)
    assert.throws(() => { assertSucceeded(r) }, (err: unknown) => {
      assert.ok(err instanceof CommandFailedError)
      assert.equal(err.name, 'CommandFailedError')
      assert.match(err.message, /^`echo first .*exit 2` exited with 2 after \d+ ms: bad thing happened$/)
      assert.equal(err.result, r)
      return true
    })
  })

  test('keeps the last 4 KiB of stderr, not the first', async () => {
    // 10000 numbered lines is ~58 KiB, far past the tail size.
    const r = await runCommand('i=0; while [ $i -lt 10000 ]; do echo "line $i" >&2; i=$((i+1)); done; exit 3', { timeoutMs: 20_000 })
    assert.equal(r.exitCode, 3)
    assert.ok(Buffer.byteLength(r.stderrTail) <= STDERR_TAIL_BYTES)
    assert.ok(Buffer.byteLength(r.stderrTail) > STDERR_TAIL_BYTES - 20)
    assert.ok(r.stderrTail.endsWith('line 9998\nline 9999\n'))
    assert.ok(!r.stderrTail.includes('line 0\n'))
    assert.throws(() => { assertSucceeded(r) }, /exited with 3 after \d+ ms: line 9999$/)
  })

  test('kills a hanging command at the timeout', async () => {
    const r = await runCommand('sleep 30', { timeoutMs: 300 })
    assert.equal(r.timedOut, true)
    assert.equal(r.exitCode, null)
    assert.ok(r.signal !== null)
    assert.ok(r.durationMs >= 300 && r.durationMs < 5000, `took ${r.durationMs} ms`)
    assert.throws(() => { assertSucceeded(r) }, /^CommandFailedError: `sleep 30` timed out after 300 ms$/)
  })

  test('kills the children of a hanging command too', async () => {
    // A unique sleep length marks this test's processes in `ps`.
    const marker = `sleep 31.${process.pid}`
    const r = await runCommand(`sh -c '${marker} & ${marker} & wait'; echo unreachable`, { timeoutMs: 300 })
    assert.equal(r.timedOut, true)
    assert.deepEqual(liveProcessesWith(marker), [])
  })

  test('kills children that ignore SIGTERM with SIGKILL after the grace period', async () => {
    const marker = `sleep 32.${process.pid}`
    const r = await runCommand(`trap '' TERM; sh -c "trap '' TERM; ${marker}" & wait`, { timeoutMs: 200, killGraceMs: 300 })
    assert.equal(r.timedOut, true)
    assert.ok(r.durationMs >= 500, `took ${r.durationMs} ms`)
    assert.deepEqual(liveProcessesWith(marker), [])
  })

  test('an abort signal kills the command', async () => {
    const ac = new AbortController()
    setTimeout(() => { ac.abort() }, 100)
    const r = await runCommand('sleep 30', { timeoutMs: 10_000, signal: ac.signal })
    assert.equal(r.aborted, true)
    assert.equal(r.timedOut, false)
    assert.throws(() => { assertSucceeded(r) }, /was aborted after \d+ ms/)
  })

  test('an already aborted signal runs nothing', async (t) => {
    const dir = await tempDir(t)
    const r = await runCommand('touch ran', { cwd: dir, timeoutMs: 5000, signal: AbortSignal.abort() })
    assert.equal(r.aborted, true)
    await assert.rejects(readFile(join(dir, 'ran')), { code: 'ENOENT' })
  })

  test('passes env (added to the agent\'s own) and cwd', async (t) => {
    const dir = await tempDir(t)
    const r = await runCommand('echo "$SPAMSYNC_TEST_VAR" >&2; pwd >&2; command -v sh >&2', {
      cwd: dir,
      env: { SPAMSYNC_TEST_VAR: 'value with spaces' },
      timeoutMs: 5000
    })
    assertSucceeded(r)
    const [v, pwd, sh] = r.stderrTail.trimEnd().split('\n')
    assert.equal(v, 'value with spaces')
    assert.equal(pwd, dir)
    assert.ok(sh.endsWith('/sh'), 'PATH from the agent environment is kept')
  })

  test('reports a command killed by a signal', async () => {
    const r = await runCommand('kill -9 $$', { timeoutMs: 5000 })
    assert.equal(r.exitCode, null)
    assert.equal(r.signal, 'SIGKILL')
    assert.equal(r.timedOut, false)
    assert.throws(() => { assertSucceeded(r) }, /was killed by SIGKILL after \d+ ms/)
  })

  test('reports a missing cwd as a failure to start, without throwing', async () => {
    const r = await runCommand('true', { cwd: '/nonexistent/spamsync-dir', timeoutMs: 5000 })
    assert.equal(r.exitCode, null)
    assert.ok(r.spawnError !== undefined)
    assert.throws(() => { assertSucceeded(r) }, /could not start: .*ENOENT/)
  })

  test('does not wait for a background child that keeps stderr open', async () => {
    const marker = `sleep 33.${process.pid}`
    const r = await runCommand(`${marker} & exit 0`, { timeoutMs: 10_000 })
    assertSucceeded(r)
    assert.ok(r.durationMs < 2000, `took ${r.durationMs} ms`)
    // Clean up the background child this test deliberately left behind.
    for (const line of liveProcessesWith(marker)) process.kill(Number(line.trim().split(/\s+/)[0]))
  })
})
