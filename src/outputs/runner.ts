/**
 * Keeps the configured outputs in line with the lists: renders every output from one snapshot
 * of the lists, writes a file (atomically, creating its folder) only when its bytes changed,
 * then runs its command with SPAMSYNC_OUTPUT=<path> under the command runner (time limit,
 * process-group kill). A failed write or command is reported, shown in status and retried
 * with a doubling back-off; the file keeps the last complete rendering meanwhile.
 *
 * Passes never overlap: changes that arrive during a pass make exactly one more pass, so a
 * burst of syncs renders at most twice. The first pass compares with the file on disk, so a
 * restart with unchanged lists writes nothing and runs nothing.
 */
import { mkdir, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { ListDataset } from '../constants.js'
import { writeFileAtomic } from '../settings/atomic-write.js'
import { assertSucceeded, runCommand, type CommandResult, type RunCommandOptions } from '../settings/command-runner.js'
import { errorMessage } from '../errors.js'
import { renderOutput } from './formats.js'
import { resolveLists, type LeftOut, type ListItem } from './lists.js'
import type { OutputSpec } from './output-config.js'

/** Environment variable with the output's path, for its command. */
export const OUTPUT_ENV = 'SPAMSYNC_OUTPUT'

/** Environment variable with the output's format, for its command. */
export const OUTPUT_FORMAT_ENV = 'SPAMSYNC_OUTPUT_FORMAT'

/** First wait before retrying a failed write or command; it doubles up to the maximum. */
export const DEFAULT_RETRY_BASE_MS = 5000

/** Longest wait between retries. */
export const DEFAULT_RETRY_MAX_MS = 300_000

/** The last run of an output's command, for status. */
export interface OutputCommandStatus {
  command: string
  /** When it last ended (ISO), or null before the first run. */
  lastRun: string | null
  /** Whether the last run exited with 0 in time; null before the first run. */
  ok: boolean | null
  /** The last failure's message (exit code, stderr tail), or null. */
  error: string | null
  /** Runs that succeeded / failed since start. */
  successes: number
  failures: number
  /** When the next retry is due (ISO), or null when none is. */
  nextRetry: string | null
}

/** One output as `/status` shows it. */
export interface OutputStatus {
  path: string
  format: string
  datasets: ListDataset[]
  /** Entries in the file as last rendered. */
  entries: number
  /** Entries of the output's lists not in the file, by reason. */
  leftOut: LeftOut
  /** Keys of the output's lists also in a list with the other verdict (precedence decided). */
  conflicts: number
  /** When the output was last rendered (ISO), or null. */
  lastRender: string | null
  /** When the file was last written (ISO), or null (unchanged since start). */
  lastWrite: string | null
  /** The last failure to write the file, or null. */
  writeError: string | null
  /** The command, or null when the output has none. */
  command: OutputCommandStatus | null
}

/** Options of an OutputRunner. */
export interface OutputRunnerOptions {
  outputs: OutputSpec[]
  /** The current entries of each list (read synchronously at the start of a pass). */
  lists: () => Partial<Record<ListDataset, Iterable<ListItem>>>
  /**
   * A number that changes whenever a list changes (the replica's change sequence): a pass with
   * the same number as the last complete one renders nothing, it only retries what failed.
   */
  version?: () => number
  /** Time limit of one command run, in ms. */
  timeoutMs: number
  /** Folder the commands run in, as the Bayes commands and hooks (config `commandDir`). */
  cwd?: string
  /** A failure worth showing to the operator (the engine's error log). */
  report: (what: string, err: unknown) => void
  /** Called after a file was written, and after a command succeeded (for the log). */
  onWritten?: (spec: OutputSpec, entries: number) => void
  onCommand?: (spec: OutputSpec, result: CommandResult) => void
  retryBaseMs?: number
  retryMaxMs?: number
  /** Runs a command (a seam for tests; default runCommand). */
  run?: (command: string, opts: RunCommandOptions) => Promise<CommandResult>
  now?: () => number
}

interface OutputState {
  spec: OutputSpec
  status: OutputStatus
  /** What the file holds (as written or found; null: no file), undefined until the first pass. */
  onDisk: string | null | undefined
  /** The file changed and its command has not succeeded since. */
  commandDue: boolean
  /** Consecutive failures, for the back-off. */
  failures: number
  retryTimer: NodeJS.Timeout | null
}

/** Renders the outputs and runs their commands; see the module comment. */
export class OutputRunner {
  private readonly states: OutputState[]
  private dirty = false
  private running: Promise<void> | null = null
  private stopped = false
  /** `version()` at the start of the last pass whose every file was written; null: none yet. */
  private renderedVersion: number | null = null

  constructor (private readonly opts: OutputRunnerOptions) {
    this.states = opts.outputs.map(spec => ({
      spec,
      status: {
        path: spec.path,
        format: spec.format,
        datasets: spec.datasets,
        entries: 0,
        leftOut: {},
        conflicts: 0,
        lastRender: null,
        lastWrite: null,
        writeError: null,
        command: spec.command === '' ? null : { command: spec.command, lastRun: null, ok: null, error: null, successes: 0, failures: 0, nextRetry: null }
      },
      onDisk: undefined,
      commandDue: false,
      failures: 0,
      retryTimer: null
    }))
  }

  /** The lists may have changed: render now, or once more after the pass in progress. */
  changed (): void {
    if (this.stopped || this.states.length === 0) return
    this.dirty = true
    if (this.running !== null) return
    this.running = this.loop().finally(() => { this.running = null })
  }

  /** Resolves once no pass is running or pending. */
  async idle (): Promise<void> {
    while (this.running !== null) await this.running
  }

  /** No more passes or retries; a pass in progress finishes (await idle()). */
  stop (): void {
    this.stopped = true
    for (const s of this.states) {
      if (s.retryTimer !== null) clearTimeout(s.retryTimer)
      s.retryTimer = null
    }
  }

  /** Each output's status, in config order. */
  status (): OutputStatus[] {
    return this.states.map(s => ({ ...s.status, leftOut: { ...s.status.leftOut }, command: s.status.command === null ? null : { ...s.status.command } }))
  }

  private now (): number {
    return this.opts.now?.() ?? Date.now()
  }

  private async loop (): Promise<void> {
    while (this.dirty && !this.stopped) {
      this.dirty = false
      const version = this.opts.version?.() ?? null
      if (version !== null && version === this.renderedVersion) {
        // The lists are as last rendered: only a command that failed is due again.
        for (const s of this.states) if (s.commandDue) await this.runCommand(s)
        continue
      }
      const resolved = resolveLists(this.opts.lists())
      for (const s of this.states) {
        const r = renderOutput(s.spec.format, resolved, s.spec.datasets)
        s.status.entries = r.written
        s.status.leftOut = r.leftOut
        s.status.conflicts = r.conflicts
        s.status.lastRender = new Date(this.now()).toISOString()
        await this.bringUp(s, r.text)
      }
      this.renderedVersion = this.states.every(s => s.status.writeError === null) ? version : null
    }
  }

  /**
   * Writes the file if its content differs, then runs the command if one is due. Strings are
   * compared: equal strings are equal UTF-8 bytes, and a file that is not valid UTF-8 reads as
   * a string no rendering equals, so it is rewritten.
   */
  private async bringUp (s: OutputState, text: string): Promise<void> {
    try {
      s.onDisk ??= await readIfExists(s.spec.path)
      if (s.onDisk !== text) {
        await mkdir(dirname(s.spec.path), { recursive: true })
        await writeFileAtomic(s.spec.path, text)
        s.onDisk = text
        s.commandDue = s.spec.command !== ''
        s.status.lastWrite = new Date(this.now()).toISOString()
        s.status.writeError = null
        this.opts.onWritten?.(s.spec, s.status.entries)
      }
    } catch (err) {
      s.status.writeError = errorMessage(err)
      this.opts.report(`output ${s.spec.path}`, err)
      this.retryLater(s)
      return
    }
    if (!s.commandDue) {
      s.failures = 0
      return
    }
    await this.runCommand(s)
  }

  /** Runs the output's command; a failure is reported and retried later. */
  private async runCommand (s: OutputState): Promise<void> {
    const cmd = s.status.command!
    const result = await (this.opts.run ?? runCommand)(s.spec.command, {
      env: { [OUTPUT_ENV]: s.spec.path, [OUTPUT_FORMAT_ENV]: s.spec.format },
      timeoutMs: this.opts.timeoutMs,
      cwd: this.opts.cwd
    })
    cmd.lastRun = new Date(this.now()).toISOString()
    try {
      assertSucceeded(result)
      s.commandDue = false
      s.failures = 0
      cmd.ok = true
      cmd.error = null
      cmd.successes++
      cmd.nextRetry = null
      this.opts.onCommand?.(s.spec, result)
    } catch (err) {
      cmd.ok = false
      cmd.error = errorMessage(err)
      cmd.failures++
      this.opts.report(`output command ${s.spec.path}`, err)
      this.retryLater(s)
    }
  }

  /** Another pass after the back-off (5 s, 10 s, 20 s ... up to 5 min by default). */
  private retryLater (s: OutputState): void {
    if (this.stopped || s.retryTimer !== null) return
    const base = this.opts.retryBaseMs ?? DEFAULT_RETRY_BASE_MS
    const delay = Math.min(base * 2 ** Math.min(s.failures, 30), this.opts.retryMaxMs ?? DEFAULT_RETRY_MAX_MS)
    s.failures++
    if (s.status.command !== null && s.commandDue) s.status.command.nextRetry = new Date(this.now() + delay).toISOString()
    s.retryTimer = setTimeout(() => {
      s.retryTimer = null
      this.changed()
    }, delay)
    s.retryTimer.unref()
  }
}

/** The file's text, or null when it does not exist. */
async function readIfExists (path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

/** The agent's runner for `config.outputs` (null when there are none), reading the replica's lists. */
export function outputRunnerFor (
  config: { outputs: OutputSpec[], hooksTimeoutSeconds: number, commandDir: string },
  lists: { entries: (ds: ListDataset) => Iterable<ListItem>, readonly changeSeq: number },
  log: { info: (fields: object, msg: string) => void },
  report: (what: string, err: unknown) => void
): OutputRunner | null {
  if (config.outputs.length === 0) return null
  return new OutputRunner({
    outputs: config.outputs,
    lists: () => ({ whitelist: lists.entries('whitelist'), blacklist: lists.entries('blacklist'), autowhitelist: lists.entries('autowhitelist') }),
    version: () => lists.changeSeq,
    timeoutMs: config.hooksTimeoutSeconds * 1000,
    cwd: config.commandDir,
    report,
    onWritten: (spec, entries) => { log.info({ event: 'output-written', path: spec.path, format: spec.format, entries }, 'output written') },
    onCommand: (spec, result) => { log.info({ event: 'output-command', path: spec.path, ms: result.durationMs }, 'output command ran') }
  })
}
