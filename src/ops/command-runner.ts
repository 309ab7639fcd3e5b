/**
 * Runs an operator's shell command (the post-apply hook, e.g. `sa-learn --restore settings/bayes.txt`,
 * or an export such as `sa-learn --backup > settings/bayes.txt`) and reports how it ended.
 * A non-zero exit is a result, not an exception: the caller decides (see `assertSucceeded`).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import type { Readable } from 'node:stream'
import { readdir, readFile } from 'node:fs/promises'
import { CommandFailedError, type CommandResult } from '../errors.js'

// The result type lives with CommandFailedError, which carries it: errors.ts imports nothing.
export type { CommandResult } from '../errors.js'

/** How much of stderr is kept: the end, as that is where the reason for a failure is. */
export const STDERR_TAIL_BYTES = 4096

/** Default time between SIGTERM and SIGKILL to the process group after a timeout or abort. */
export const DEFAULT_KILL_GRACE_MS = 1000

// After the shell exits, a background child may still hold stderr open; do not wait for it longer.
const STDERR_DRAIN_MS = 200
// How often the group is probed for survivors while waiting for the grace period to end.
const GROUP_POLL_MS = 25

/** Options of runCommand. */
export interface RunCommandOptions {
  /** Working folder of the command (default: the agent's). */
  cwd?: string
  /** Variables added to (and overriding) the agent's own environment. */
  env?: Record<string, string>
  /** After this many ms the whole process group is killed and the result says `timedOut`. */
  timeoutMs: number
  /** Aborting kills the whole process group like a timeout; the result says `aborted`. */
  signal?: AbortSignal
  /** Time between SIGTERM and SIGKILL to the group (default DEFAULT_KILL_GRACE_MS). */
  killGraceMs?: number
}

/** Whether the command ran to the end and exited with 0. */
export function succeeded (result: CommandResult): boolean {
  return result.exitCode === 0 && !result.timedOut && !result.aborted && result.spawnError === undefined
}

/** Throws CommandFailedError unless the command exited with 0 in time. */
export function assertSucceeded (result: CommandResult): void {
  if (!succeeded(result)) throw new CommandFailedError(result)
}

/** Keeps the last `max` bytes written to it. */
class TailBuffer {
  private chunks: Buffer[] = []
  private size = 0

  constructor (private readonly max: number) {}

  push (chunk: Buffer): void {
    this.chunks.push(chunk)
    this.size += chunk.length
    // Compact only past twice the limit, so a chatty command costs amortised O(bytes).
    if (this.size > 2 * this.max) this.compact()
  }

  text (): string {
    this.compact()
    // The cut may fall inside a multi-byte character; drop its broken remains.
    return this.chunks.length === 0 ? '' : this.chunks[0].toString('utf8').replace(/^\uFFFD+/, '')
  }

  private compact (): void {
    const all = Buffer.concat(this.chunks)
    const tail = all.length > this.max ? all.subarray(all.length - this.max) : all
    this.chunks = [tail]
    this.size = tail.length
  }
}

/** Sends `sig` to every process of group `pgid`; false when the group no longer exists. */
function killGroup (pgid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, sig)
    return true
  } catch (err) {
    // ESRCH: all gone. EPERM: a member changed user; nothing more we can do for it.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** What a running shell gives its runner: the process, its end, and the end of its stderr. */
interface RunningShell {
  child: ChildProcessByStdio<null, null, Readable>
  ended: Promise<{ code: number | null, signal: NodeJS.Signals | null } | { spawnError: string }>
  stderrClosed: Promise<void>
}

/** Starts `/bin/sh -c command` leading its own process group, its stderr's tail going to `tail`. */
function spawnShell (command: string, opts: RunCommandOptions, tail: TailBuffer): RunningShell {
  // detached: the shell leads its own process group, so kill(-pid) reaches its children too.
  const child = spawn('/bin/sh', ['-c', command], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe']
  })
  child.stderr.on('data', (chunk: Buffer) => { tail.push(chunk) })
  // A stream error (e.g. after destroy) only ends the capture early.
  child.stderr.on('error', () => {})
  const stderrClosed = new Promise<void>((resolve) => { child.stderr.once('close', resolve) })

  // Resolves with the exit, or with the reason the shell could not be started.
  const ended = new Promise<{ code: number | null, signal: NodeJS.Signals | null } | { spawnError: string }>((resolve) => {
    child.once('exit', (code, signal) => { resolve({ code, signal }) })
    child.once('error', (err) => {
      // Only a failed spawn (bad cwd, no /bin/sh) leaves no process to wait for.
      if (child.pid === undefined) resolve({ spawnError: err.message })
    })
  })
  return { child, ended, stderrClosed }
}

/**
 * Runs `command` with `/bin/sh -c` in a new process group and resolves when it has ended.
 * Never rejects: a non-zero exit, a signal, a timeout, an abort and a failure to start are all
 * reported in the result. On timeout or abort the whole group (the shell and everything it
 * started) gets SIGTERM, then SIGKILL after the grace period, and the promise resolves only once
 * the group is gone or has been sent SIGKILL. stdout is discarded; redirect it in the command.
 */
export async function runCommand (command: string, opts: RunCommandOptions): Promise<CommandResult> {
  const start = performance.now()
  const tail = new TailBuffer(STDERR_TAIL_BYTES)
  const result = (fields: Partial<CommandResult>): CommandResult => ({
    command,
    exitCode: null,
    signal: null,
    durationMs: Math.round(performance.now() - start),
    stderrTail: tail.text(),
    timeoutMs: opts.timeoutMs,
    timedOut: false,
    aborted: false,
    ...fields
  })
  if (opts.signal?.aborted === true) return result({ aborted: true })

  const graceMs = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS
  const { child, ended, stderrClosed } = spawnShell(command, opts, tail)

  let timedOut = false
  let aborted = false
  let killing: Promise<void> | undefined
  const stop = (why: 'timeout' | 'abort'): void => {
    if (killing !== undefined) return
    if (why === 'timeout') timedOut = true
    else aborted = true
    killing = killAll(child.pid, graceMs)
  }
  const onAbort = (): void => { stop('abort') }
  const timer = setTimeout(() => { stop('timeout') }, opts.timeoutMs)
  opts.signal?.addEventListener('abort', onAbort, { once: true })

  try {
    const end = await ended
    // The shell is done: a timeout or abort from now on must not turn its result into a failure.
    clearTimeout(timer)
    opts.signal?.removeEventListener('abort', onAbort)
    if ('spawnError' in end) return result({ spawnError: end.spawnError })
    // A background child may keep stderr open after the shell exits; give it a moment only.
    await Promise.race([stderrClosed, delay(STDERR_DRAIN_MS)])
    // Resolve only once the group is gone (or SIGKILLed), so nothing outlives a timeout.
    if (killing !== undefined) await killing
    return result({ exitCode: end.code, signal: end.signal, timedOut, aborted })
  } finally {
    clearTimeout(timer)
    opts.signal?.removeEventListener('abort', onAbort)
    child.stderr.destroy()
  }
}

/** Resolves after `ms`. */
async function delay (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

/** SIGTERM to group `pgid`, then SIGKILL to whatever is left after `graceMs`. */
async function killAll (pgid: number | undefined, graceMs: number): Promise<void> {
  if (pgid === undefined) return
  if (!killGroup(pgid, 'SIGTERM')) return
  const deadline = performance.now() + graceMs
  while (performance.now() < deadline) {
    await delay(GROUP_POLL_MS)
    if (!await groupAlive(pgid)) return
  }
  killGroup(pgid, 'SIGKILL')
}

/**
 * Whether group `pgid` still has a member that is not a zombie. kill(-pgid, 0) alone counts
 * zombies, and under an init that does not reap (a container without --init) they stay for good,
 * so on Linux /proc is read to tell them apart.
 */
async function groupAlive (pgid: number): Promise<boolean> {
  if (!killGroup(pgid, 0)) return false
  if (process.platform !== 'linux') return true
  let pids: string[]
  try {
    pids = await readdir('/proc')
  } catch {
    return true
  }
  for (const pid of pids) {
    if (!/^\d+$/.test(pid)) continue
    let stat: string
    try {
      stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    } catch {
      continue // exited meanwhile
    }
    // Fields after the command name (which may hold spaces and parentheses): state ppid pgrp ...
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (Number(rest[2]) === pgid && rest[0] !== 'Z' && rest[0] !== 'X') return true
  }
  return false
}
