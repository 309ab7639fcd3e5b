import { afterEach, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { OutputRunner, type OutputRunnerOptions } from '../../../src/outputs/runner.js'
import type { OutputSpec } from '../../../src/outputs/output-config.js'
import { runCommand, type CommandResult, type RunCommandOptions } from '../../../src/ops/command-runner.js'
import { MemoryLists } from './memory-lists.js'

let dir: string
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'spamsync-runner-')) })
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

/** A runner over mutable lists; counts writes, command runs and reports. */
function harness (outputs: OutputSpec[], opts: Partial<OutputRunnerOptions> = {}): {
  runner: OutputRunner
  lists: MemoryLists
  writes: string[]
  runs: Array<{ command: string, env: Record<string, string> | undefined }>
  reports: string[]
} {
  const lists = new MemoryLists()
  const writes: string[] = []
  const runs: Array<{ command: string, env: Record<string, string> | undefined }> = []
  const reports: string[] = []
  const runner = new OutputRunner({
    outputs,
    lists,
    timeoutMs: 10_000,
    report: (what, err) => { reports.push(`${what}: ${String(err)}`) },
    onWritten: (spec) => { writes.push(spec.path) },
    run: async (command: string, o: RunCommandOptions): Promise<CommandResult> => {
      runs.push({ command, env: o.env })
      return await runCommand(command, o)
    },
    ...opts
  })
  return { runner, lists, writes, runs, reports }
}

async function pass (runner: OutputRunner): Promise<void> {
  runner.changed()
  await runner.idle()
}

describe('output runner', () => {
  test('writes and runs the command when the content changes, and neither when it does not', async () => {
    const path = join(dir, 'sub', 'sender_access')
    const marker = join(dir, 'ran')
    const h = harness([{ format: 'postfix-access', datasets: ['blacklist'], path, command: `printf '%s %s;' "$SPAMSYNC_OUTPUT" "$SPAMSYNC_OUTPUT_FORMAT" >> ${marker}` }])
    h.lists.set('blacklist', 'spam@bad.example', '')
    await pass(h.runner)
    assert.match(await readFile(path, 'utf8'), /^spam@bad\.example REJECT$/m)
    assert.equal(await readFile(marker, 'utf8'), `${path} postfix-access;`)
    const before = await stat(path)

    // A change elsewhere (a whitelist entry this output does not hold): same bytes, nothing done.
    h.lists.set('whitelist', 'joe@example.com', '')
    await pass(h.runner)
    assert.equal(h.writes.length, 1)
    assert.equal(h.runs.length, 1)
    assert.equal((await stat(path)).ino, before.ino)

    h.lists.set('blacklist', 'more@bad.example', '')
    await pass(h.runner)
    assert.equal(h.writes.length, 2)
    assert.equal(h.runs.length, 2)
    const s = h.runner.status()[0]
    assert.equal(s.entries, 2)
    assert.equal(s.command?.ok, true)
    assert.equal(s.command?.successes, 2)
  })

  test('at start-up a file that already holds the rendering is neither written nor run', async () => {
    const path = join(dir, 'client.cidr')
    const first = harness([{ format: 'postfix-cidr', datasets: ['blacklist'], path, command: 'true' }])
    first.lists.set('blacklist', '10.0.0.0/8', '')
    await pass(first.runner)
    assert.equal(first.runs.length, 1)

    const second = harness([{ format: 'postfix-cidr', datasets: ['blacklist'], path, command: 'true' }])
    second.lists.set('blacklist', '10.0.0.0/8', '')
    await pass(second.runner)
    assert.equal(second.writes.length, 0)
    assert.equal(second.runs.length, 0)
    assert.equal(second.runner.status()[0].entries, 1)
  })

  test('a failed command is reported, shown in status and retried with back-off until it succeeds', async () => {
    const path = join(dir, 'spamsync.cf')
    const tries = join(dir, 'tries')
    // Fails twice, then succeeds.
    const command = `echo x >> ${tries}; [ $(wc -l < ${tries}) -ge 3 ] || { echo 'reload failed' >&2; exit 1; }`
    let succeeded!: () => void
    const done = new Promise<void>((resolve) => { succeeded = resolve })
    const h = harness([{ format: 'spamassassin', datasets: ['whitelist'], path, command }], { retryBaseMs: 20, onCommand: () => { succeeded() } })
    h.lists.set('whitelist', 'joe@example.com', '')
    await pass(h.runner)
    const failed = h.runner.status()[0].command!
    assert.equal(failed.ok, false)
    assert.match(failed.error ?? '', /reload failed/)
    assert.notEqual(failed.nextRetry, null)
    assert.match(await readFile(path, 'utf8'), /^welcomelist_from joe@example\.com$/m)
    await done
    await h.runner.idle()
    const ok = h.runner.status()[0].command!
    assert.equal(ok.ok, true)
    assert.equal(ok.failures, 2)
    assert.equal(ok.nextRetry, null)
    assert.equal(h.runs.length, 3)
    // Written once: a retry runs the command again, it does not rewrite an unchanged file.
    assert.equal(h.writes.length, 1)
    assert.equal(h.reports.filter(r => r.startsWith(`output command ${path}`)).length, 2)
    h.runner.stop()
  })

  test('a file that cannot be written is reported and shown in status; the other outputs still render', async () => {
    await writeFile(join(dir, 'not-a-folder'), '')
    const bad = join(dir, 'not-a-folder', 'map')
    const good = join(dir, 'ip.map')
    const h = harness([
      { format: 'rspamd-ip', datasets: ['blacklist'], path: bad, command: '' },
      { format: 'rspamd-ip', datasets: ['blacklist'], path: good, command: '' }
    ], { retryBaseMs: 60_000 })
    h.lists.set('blacklist', '192.0.2.1', '')
    await pass(h.runner)
    h.runner.stop()
    const [s1, s2] = h.runner.status()
    assert.match(s1.writeError ?? '', /ENOTDIR|EEXIST/)
    assert.equal(s2.writeError, null)
    assert.match(await readFile(good, 'utf8'), /^192\.0\.2\.1$/m)
    assert.equal(h.reports.length, 1)
  })

  test('changes during a pass make exactly one more pass', async () => {
    const path = join(dir, 'from.map')
    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    let runs = 0
    const h = harness([{ format: 'rspamd-from', datasets: ['blacklist'], path, command: 'true' }], {
      run: async (command, o) => { runs++; if (runs === 1) await gate; return await runCommand(command, o) }
    })
    h.lists.set('blacklist', 'a@bad.example', '')
    h.runner.changed()
    for (const k of ['b@bad.example', 'c@bad.example', 'd@bad.example']) {
      h.lists.set('blacklist', k, '')
      h.runner.changed()
    }
    release()
    await h.runner.idle()
    assert.equal(runs, 2)
    assert.equal(h.writes.length, 2)
    assert.equal(h.runner.status()[0].entries, 4)
  })

  test('after the first pass only the changed keys are read: no pass reads a whole list again', async () => {
    const path = join(dir, 'ip.map')
    const h = harness([{ format: 'rspamd-ip', datasets: ['blacklist'], path, command: '' }])
    h.lists.set('blacklist', '192.0.2.1', '')
    await pass(h.runner)
    const full = h.lists.entryReads
    assert.ok(full > 0)
    await pass(h.runner)
    h.lists.set('blacklist', '192.0.2.2', '')
    await pass(h.runner)
    h.lists.set('blacklist', '192.0.2.1', null)
    await pass(h.runner)
    assert.equal(h.lists.entryReads, full)
    assert.equal(h.runner.status()[0].entries, 1)
    assert.deepEqual((await readFile(path, 'utf8')).split('\n').slice(1), ['192.0.2.2', ''])
    assert.equal(h.writes.length, 3)
  })

  test('when the changes cannot be read, the pass is reported and renders everything again', async () => {
    const path = join(dir, 'from.map')
    const h = harness([{ format: 'rspamd-from', datasets: ['blacklist'], path, command: '' }])
    h.lists.set('blacklist', 'a@bad.example', '')
    await pass(h.runner)
    const changedSince = h.lists.changedSince.bind(h.lists)
    h.lists.changedSince = async () => { throw new Error('store closed') }
    h.lists.set('blacklist', 'b@bad.example', '')
    await pass(h.runner)
    assert.deepEqual(h.reports, ['outputs: reading the list changes: Error: store closed'])
    assert.deepEqual((await readFile(path, 'utf8')).split('\n').slice(1), ['a@bad.example', 'b@bad.example', ''])
    // Back on the change feed afterwards.
    h.lists.changedSince = changedSince
    const reads = h.lists.entryReads
    h.lists.set('blacklist', 'a@bad.example', null)
    await pass(h.runner)
    assert.equal(h.lists.entryReads, reads)
    assert.deepEqual((await readFile(path, 'utf8')).split('\n').slice(1), ['b@bad.example', ''])
  })
})
