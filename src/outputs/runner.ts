/**
 * Keeps the configured outputs in line with the lists: renders every output from one snapshot
 * of the lists, writes a file (atomically, creating its folder) only when its bytes changed,
 * then runs its command with SPAMSYNC_OUTPUT=<path> under the command runner (time limit,
 * process-group kill). A failed write or command is reported, shown in status and retried
 * with a doubling back-off; the file keeps the last complete rendering meanwhile.
 *
 * Passes never overlap: changes that arrive during a pass make exactly one more pass, so a
 * burst of syncs renders at most twice. The first pass renders everything and compares with
 * the file on disk, so a restart with unchanged lists writes nothing and runs nothing. Later
 * passes take only the keys changed since (the list source's change feed), resolve them again
 * over all lists and update their lines in each output's LineTable: a file whose lines did not
 * change is neither compared nor written, and its command does not run.
 */
import { mkdir, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { LIST_DATASETS, type ListDataset } from '../constants.js'
import { writeFileAtomic } from '../settings/atomic-write.js'
import { assertSucceeded, runCommand, type CommandResult, type RunCommandOptions } from '../ops/command-runner.js'
import { errorMessage } from '../errors.js'
import { lineFormat } from './formats.js'
import { resolveKey, resolveKeys, type LeftOut, type ListItem, type ResolvedKey } from './lists.js'
import type { OutputSpec } from './output-config.js'
import { LineTable, type KeyChange } from './table.js'

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

/** The lists an OutputRunner renders, with their changes (the ListReplica is one). */
export interface ListSource {
  /** Every entry of a list, tombstones included (read synchronously). */
  entries: (dataset: ListDataset) => Iterable<ListItem>
  /** A key's entry in a list, or undefined. */
  get: (dataset: ListDataset, key: string) => ListItem | undefined
  /** A number that grows with every change of a list, and only then. */
  readonly changeSeq: number
  /** The entries (by key at least) of a list changed after `changeSeq` was `seq`. */
  changedSince: (dataset: ListDataset, seq: number) => Promise<Iterable<{ key: string }>>
}

/** Options of an OutputRunner. */
export interface OutputRunnerOptions {
  outputs: OutputSpec[]
  lists: ListSource
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
  /** The output's lines as of `seq`. */
  table: LineTable
  /** Whether the file holds the table's lines: unknown until compared after a full render. */
  file: 'unknown' | 'current' | 'stale'
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
  /** Every key in some list, resolved as of `seq`; null before the first (full) render. */
  private resolved: Map<string, ResolvedKey> | null = null
  /** The source's changeSeq the tables were brought to. */
  private seq = 0

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
      table: new LineTable(lineFormat(spec.format, spec.datasets), spec.datasets),
      file: 'unknown',
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
      const seq = this.opts.lists.changeSeq
      if (this.resolved !== null && seq !== this.seq) {
        try {
          await this.catchUp(seq)
        } catch (err) {
          // Without the changes the tables cannot be trusted: render everything again.
          this.opts.report('outputs: reading the list changes', err)
          this.resolved = null
        }
      }
      if (this.resolved === null) this.renderAll(seq)
      // Writes what changed (or failed before) and runs the commands due.
      for (const s of this.states) await this.bringUp(s)
    }
  }

  /** Renders every output from all entries (the first pass), to be compared with its file. */
  private renderAll (seq: number): void {
    const src = this.opts.lists
    const keys = resolveKeys({ whitelist: src.entries('whitelist'), blacklist: src.entries('blacklist'), autowhitelist: src.entries('autowhitelist') })
    this.resolved = new Map()
    for (const k of keys) this.resolved.set(k.key, k)
    for (const s of this.states) {
      s.table = new LineTable(lineFormat(s.spec.format, s.spec.datasets), s.spec.datasets)
      s.table.fill(keys)
      s.file = 'unknown'
      this.rendered(s)
    }
    this.seq = seq
  }

  /** Re-resolves the keys changed since the last pass and updates their lines. */
  private async catchUp (seq: number): Promise<void> {
    const src = this.opts.lists
    const keys = new Set<string>()
    for (const ds of LIST_DATASETS) for (const e of await src.changedSince(ds, this.seq)) keys.add(e.key)
    // Read after the last await: one consistent state of the lists (changes after `seq` that
    // are already in are taken again by the next pass, which changes nothing).
    const resolved = this.resolved!
    const changes: KeyChange[] = []
    for (const key of keys) {
      const after = resolveKey(key, ds => src.get(ds, key))
      changes.push({ key, before: resolved.get(key), after })
      if (after === undefined) resolved.delete(key)
      else resolved.set(key, after)
    }
    for (const s of this.states) {
      if (s.table.update(changes) && s.file === 'current') s.file = 'stale'
      this.rendered(s)
    }
    this.seq = seq
  }

  private rendered (s: OutputState): void {
    const c = s.table.counts()
    s.status.entries = c.written
    s.status.leftOut = c.leftOut
    s.status.conflicts = c.conflicts
    s.status.lastRender = new Date(this.now()).toISOString()
  }

  /**
   * Writes the file unless it holds the table's lines (after a full render: unless its bytes
   * are the rendering's), then runs the command if one is due.
   */
  private async bringUp (s: OutputState): Promise<void> {
    try {
      if (s.file !== 'current') {
        const chunks = s.table.chunks()
        if (s.file === 'unknown' && (await readIfExists(s.spec.path))?.equals(Buffer.concat(chunks)) === true) {
          s.file = 'current'
        } else {
          await mkdir(dirname(s.spec.path), { recursive: true })
          await writeFileAtomic(s.spec.path, chunks)
          s.file = 'current'
          s.commandDue = s.spec.command !== ''
          s.status.lastWrite = new Date(this.now()).toISOString()
          this.opts.onWritten?.(s.spec, s.status.entries)
        }
        s.status.writeError = null
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

/** The file's bytes, or null when it does not exist. */
async function readIfExists (path: string): Promise<Buffer | null> {
  try {
    return await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

/** The agent's runner for `config.outputs` (null when there are none), reading the replica's lists. */
export function outputRunnerFor (
  config: { outputs: OutputSpec[], hooksTimeoutSeconds: number, commandDir: string },
  lists: ListSource,
  log: { info: (fields: object, msg: string) => void },
  report: (what: string, err: unknown) => void
): OutputRunner | null {
  if (config.outputs.length === 0) return null
  return new OutputRunner({
    outputs: config.outputs,
    lists,
    timeoutMs: config.hooksTimeoutSeconds * 1000,
    cwd: config.commandDir,
    report,
    onWritten: (spec, entries) => { log.info({ event: 'output-written', path: spec.path, format: spec.format, entries }, 'output written') },
    onCommand: (spec, result) => { log.info({ event: 'output-command', path: spec.path, ms: result.durationMs }, 'output command ran') }
  })
}
