/**
 * The operator's `hooks.afterApply` command (e.g. `postmap`, `rspamadm control reload`), run
 * after a sync changed settings files, with their absolute paths in `SPAMSYNC_CHANGED_FILES`.
 * It runs outside the engine's queue, so a slow hook never holds up a merge or an apply. Changes
 * that arrive while it runs are collected and trigger exactly one more run with all their files,
 * so a burst of syncs never piles up runs.
 */
import { assertSucceeded, runCommand, type CommandResult, type RunCommandOptions } from './command-runner.js'

/** Environment variable with the changed files, space-separated. */
export const CHANGED_FILES_ENV = 'SPAMSYNC_CHANGED_FILES'

/** Environment variable with the changed files, one a line (safe for paths with spaces). */
export const CHANGED_FILES_LINES_ENV = 'SPAMSYNC_CHANGED_FILES_LINES'

/** Options of an AfterApplyHook. */
export interface AfterApplyHookOptions {
  /** The shell command. */
  command: string
  /** Time limit of one run, in ms. */
  timeoutMs: number
  /** Folder the command runs in (default: the working folder). */
  cwd?: string
  /** Called with the files of a run that succeeded. */
  onSuccess?: (files: string[], result: CommandResult) => void
  /** Called when a run failed (CommandFailedError); the sync it followed stays. */
  onFailure: (err: unknown, files: string[]) => void
  /** Runs the command (a seam for tests; default runCommand). */
  run?: (command: string, opts: RunCommandOptions) => Promise<CommandResult>
}

/** Runs the afterApply command once per batch of changed files. */
export class AfterApplyHook {
  private readonly pending = new Set<string>()
  private running: Promise<void> | null = null
  /** Runs since start, and whether the last one failed (the node's health in its beacon). */
  readonly runs = { ok: 0, failed: 0, lastFailed: false }

  constructor (private readonly opts: AfterApplyHookOptions) {}

  /** Queues changed files: the command runs now, or once more after the run in progress. */
  changed (files: string[]): void {
    for (const f of files) this.pending.add(f)
    if (this.running !== null || this.pending.size === 0) return
    this.running = this.loop().finally(() => { this.running = null })
  }

  /** Resolves once no run is in progress or pending (at shutdown, so a started hook completes). */
  async idle (): Promise<void> {
    while (this.running !== null) await this.running
  }

  private async loop (): Promise<void> {
    const run = this.opts.run ?? runCommand
    while (this.pending.size > 0) {
      const files = [...this.pending].sort()
      this.pending.clear()
      const env = { [CHANGED_FILES_ENV]: files.join(' '), [CHANGED_FILES_LINES_ENV]: files.join('\n') }
      try {
        const result = await run(this.opts.command, { env, cwd: this.opts.cwd, timeoutMs: this.opts.timeoutMs })
        assertSucceeded(result)
        this.runs.ok++
        this.runs.lastFailed = false
        this.opts.onSuccess?.(files, result)
      } catch (err) {
        this.runs.failed++
        this.runs.lastFailed = true
        this.opts.onFailure(err, files)
      }
    }
  }
}

/** The agent's hook for `config.hooksAfterApply` (null when none is set). */
export function afterApplyHookFor (
  config: { hooksAfterApply: string, hooksTimeoutSeconds: number, commandDir: string },
  log: { info: (fields: object, msg: string) => void },
  report: (what: string, err: unknown) => void
): AfterApplyHook | null {
  if (config.hooksAfterApply === '') return null
  return new AfterApplyHook({
    command: config.hooksAfterApply,
    timeoutMs: config.hooksTimeoutSeconds * 1000,
    cwd: config.commandDir,
    onSuccess: (files, result) => { log.info({ event: 'hook', hook: 'afterApply', files, ms: result.durationMs }, 'afterApply hook ran') },
    onFailure: (err) => { report('hook afterApply', err) }
  })
}
