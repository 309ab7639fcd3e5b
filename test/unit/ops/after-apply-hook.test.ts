import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AfterApplyHook, CHANGED_FILES_ENV, CHANGED_FILES_LINES_ENV } from '../../../src/ops/after-apply-hook.js'
import type { CommandResult, RunCommandOptions } from '../../../src/ops/command-runner.js'
import { CommandFailedError } from '../../../src/errors.js'

/** A command result with the given exit code. */
function result (command: string, exitCode: number): CommandResult {
  return { command, exitCode, signal: null, durationMs: 1, stderrTail: exitCode === 0 ? '' : 'no such map\n', timeoutMs: 1000, timedOut: false, aborted: false }
}

/** A runner that records each run and finishes it when the test says so. */
class FakeRunner {
  readonly runs: Array<{ command: string, opts: RunCommandOptions, finish: (code: number) => void }> = []

  run = async (command: string, opts: RunCommandOptions): Promise<CommandResult> => {
    return await new Promise(resolve => { this.runs.push({ command, opts, finish: (code) => { resolve(result(command, code)) } }) })
  }
}

async function settle (): Promise<void> {
  await new Promise(resolve => setImmediate(resolve))
}

test('runs the command with the changed files, space-separated and one a line', async () => {
  const runner = new FakeRunner()
  const done: string[][] = []
  const hook = new AfterApplyHook({ command: 'postmap x', timeoutMs: 5000, run: runner.run, onSuccess: (files) => { done.push(files) }, onFailure: () => { assert.fail('no failure expected') } })
  hook.changed(['/s/whitelist.txt', '/s/blacklist.txt'])
  await settle()
  assert.equal(runner.runs.length, 1)
  assert.equal(runner.runs[0].command, 'postmap x')
  assert.equal(runner.runs[0].opts.timeoutMs, 5000)
  assert.equal(runner.runs[0].opts.env?.[CHANGED_FILES_ENV], '/s/blacklist.txt /s/whitelist.txt')
  assert.equal(runner.runs[0].opts.env?.[CHANGED_FILES_LINES_ENV], '/s/blacklist.txt\n/s/whitelist.txt')
  runner.runs[0].finish(0)
  await hook.idle()
  assert.deepEqual(done, [['/s/blacklist.txt', '/s/whitelist.txt']])
})

test('nothing changed: nothing runs', async () => {
  const runner = new FakeRunner()
  const hook = new AfterApplyHook({ command: 'x', timeoutMs: 1000, run: runner.run, onFailure: () => {} })
  hook.changed([])
  await hook.idle()
  assert.equal(runner.runs.length, 0)
})

test('changes during a run give exactly one more run with the union of their files', async () => {
  const runner = new FakeRunner()
  const hook = new AfterApplyHook({ command: 'x', timeoutMs: 1000, run: runner.run, onFailure: () => {} })
  hook.changed(['/s/a.txt'])
  await settle()
  hook.changed(['/s/b.txt'])
  hook.changed(['/s/c.txt', '/s/b.txt'])
  hook.changed(['/s/a.txt'])
  await settle()
  assert.equal(runner.runs.length, 1, 'no second run while the first goes')
  runner.runs[0].finish(0)
  await settle()
  assert.equal(runner.runs.length, 2)
  assert.equal(runner.runs[1].opts.env?.[CHANGED_FILES_ENV], '/s/a.txt /s/b.txt /s/c.txt')
  runner.runs[1].finish(0)
  await hook.idle()
  assert.equal(runner.runs.length, 2)
})

test('a failing run is reported as CommandFailedError and the next change runs again', async () => {
  const runner = new FakeRunner()
  const failures: unknown[] = []
  const hook = new AfterApplyHook({ command: 'exit 7', timeoutMs: 1000, run: runner.run, onFailure: (err) => { failures.push(err) } })
  hook.changed(['/s/a.txt'])
  await settle()
  runner.runs[0].finish(7)
  await hook.idle()
  assert.equal(failures.length, 1)
  assert.ok(failures[0] instanceof CommandFailedError)
  assert.match((failures[0] as Error).message, /exited with 7/)
  hook.changed(['/s/a.txt'])
  await settle()
  assert.equal(runner.runs.length, 2)
  runner.runs[1].finish(0)
  await hook.idle()
})

test('counts its runs and whether the last one failed, for the node\'s health record', async () => {
  const runner = new FakeRunner()
  const failures: unknown[] = []
  const hook = new AfterApplyHook({ command: 'postmap x', timeoutMs: 1000, run: runner.run, onFailure: (err) => { failures.push(err) } })
  assert.deepEqual(hook.runs, { ok: 0, failed: 0, lastFailed: false })
  hook.changed(['/s/a.txt'])
  await settle()
  runner.runs[0].finish(1)
  await hook.idle()
  assert.deepEqual(hook.runs, { ok: 0, failed: 1, lastFailed: true })
  assert.ok(failures[0] instanceof CommandFailedError)
  hook.changed(['/s/a.txt'])
  await settle()
  runner.runs[1].finish(0)
  await hook.idle()
  assert.deepEqual(hook.runs, { ok: 1, failed: 1, lastFailed: false })
})
