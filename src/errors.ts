/**
 * Named errors. Every error an operator can cause or meet is one of these, so the CLI can print
 * it as one line (`name: message`) and tests can assert on the name.
 * `expected` errors are the operator's input or environment, not bugs: no stack is printed.
 */
/** Base of all named errors. */
export class SpamsyncError extends Error {
  /** True for errors caused by input or environment; the CLI prints them without a stack. */
  readonly expected: boolean = true

  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
  }
}

/** A command-line flag or argument is wrong (exit code 2). */
export class UsageError extends SpamsyncError {}

/** A configuration key is unknown, of the wrong type or out of range. */
export class ConfigError extends SpamsyncError {}

/** A list line's key is not an address, domain, wildcard domain, IP or CIDR. */
export class InvalidKeyError extends SpamsyncError {}

/** The data folder is locked by another running agent or command. */
export class DataDirInUseError extends SpamsyncError {}

/** The data folder was written by an incompatible version of the agent. */
export class StoreFormatError extends SpamsyncError {}

/** The cluster key file is missing, unreadable or malformed. */
export class ClusterKeyError extends SpamsyncError {}

/** Base of every refusal of an archive; nothing local changes when one is thrown. */
export class ArchiveError extends SpamsyncError {}

/** The bytes are not a readable zip (truncated, corrupt, not a zip at all). */
export class CorruptArchiveError extends ArchiveError {}

/** An entry name is absolute, contains `..` or a backslash, or is otherwise unsafe. */
export class UnsafeEntryNameError extends ArchiveError {}

/** Two entries share one name. */
export class DuplicateEntryError extends ArchiveError {}

/** More files, more bytes or a larger manifest than the limits allow. */
export class ArchiveLimitError extends ArchiveError {}

/** An entry inflates past its declared size or past the compression-ratio cap. */
export class CompressionBombError extends ArchiveError {}

/** The manifest is missing, malformed or of another format or version. */
export class ManifestError extends ArchiveError {}

/** A file's size or sha256 differs from what the manifest declares. */
export class ChecksumMismatchError extends ArchiveError {}

/** A dataset file inside an archive cannot be decoded. */
export class DatasetDecodeError extends ArchiveError {}

/** An upload carries a Bayes contribution its uploader may not speak for (another node's, outside a hand-over, or one that would grow a live node's). */
export class ForgedContributionError extends ArchiveError {}

/** A list entry's value cannot be written as one line of a list file (line break, or a `#` that would start a comment). */
export class InvalidValueError extends SpamsyncError {}

/** A sync transfer broke the protocol (too many bytes, a stall, a bad message). */
export class TransferError extends SpamsyncError {}

/** A peer refused a sync request; the reason is the peer's. */
export class SyncRefusedError extends SpamsyncError {}

/** A central version whose term is above the term this node is in: only the master of a term cuts its versions, so a peer forged it. */
export class VersionAheadError extends SpamsyncError {}

/** Entries from a peer stamped before the tombstone floor, for keys not held here: not taken, as they may bring back a deleted entry (sync-v1.md, "Tombstones"). */
export class StaleEntriesError extends SpamsyncError {}

/** A rollback named a central version the master does not keep (never cut, pruned, or cut before history was kept). */
export class UnknownVersionError extends SpamsyncError {}

/** A peer's version history (a fetch answer's history field) is malformed or past its bounds: none of it is stored. */
export class HistoryRecordError extends SpamsyncError {}

/** A request needs the master and no master is known (an election is under way). */
export class NoMasterError extends SpamsyncError {}

/** A control request (`POST`) to the HTTP API came without the control token or with a wrong one. */
export class ControlTokenError extends SpamsyncError {}

/** An HTTP request named a host (`Host` header) that is not this agent's: refused against DNS rebinding. */
export class HostNotAllowedError extends SpamsyncError {}

/** A port the agent would listen on (libp2p or HTTP) is taken by another process. */
export class PortInUseError extends SpamsyncError {}

/** A Bayes command or hook names a program that is not there or cannot be run. */
export class CommandNotFoundError extends SpamsyncError {}

/** No agent answers on the HTTP port a command was pointed at. */
export class AgentUnreachableError extends SpamsyncError {}

/** A Bayes backup (`sa-learn --backup` text) cannot be read or written as a whole: no `v 3 db_version` first line, or a value no line can hold. */
export class SaBackupError extends SpamsyncError {}

/**
 * How an operator's command ended (ops/command-runner.ts runs it). Declared here, where
 * CommandFailedError carries it, so this module imports nothing and every module may import it.
 */
export interface CommandResult {
  /** The command as given to `/bin/sh -c`. */
  command: string
  /** The shell's exit code, or null when it was killed by a signal or never started. */
  exitCode: number | null
  /** The signal that killed the shell (e.g. 'SIGTERM'), or null. */
  signal: NodeJS.Signals | null
  /** Wall time from spawn to the end, in ms. */
  durationMs: number
  /** The last STDERR_TAIL_BYTES bytes of stderr, as UTF-8. */
  stderrTail: string
  /** The time limit the command ran under, in ms. */
  timeoutMs: number
  /** True when the command ran past `timeoutMs` and was killed. */
  timedOut: boolean
  /** True when `signal` aborted the command (before or while it ran). */
  aborted: boolean
  /** Why the shell could not be started (e.g. the cwd does not exist), or undefined. */
  spawnError?: string
}

/** An operator's command (post-apply hook, export) exited non-zero, was killed, timed out or could not start. */
export class CommandFailedError extends SpamsyncError {
  /** How the command ended. */
  readonly result: CommandResult

  constructor (result: CommandResult, options?: ErrorOptions) {
    super(describeFailure(result), options)
    this.result = result
  }
}

/** One line: "`cmd` exited with 2 after 130 ms: <last stderr line>", "`cmd` timed out after 5000 ms", ... */
function describeFailure (r: CommandResult): string {
  // Long commands are cut so the message stays one readable line.
  const cmd = r.command.length > 200 ? `${r.command.slice(0, 199)}…` : r.command
  const lastLine = r.stderrTail.split('\n').map((l) => l.trim()).filter((l) => l !== '').at(-1)
  const why = r.spawnError !== undefined
    ? `could not start: ${r.spawnError}`
    : r.timedOut
      ? `timed out after ${r.timeoutMs} ms`
      : r.aborted
        ? `was aborted after ${r.durationMs} ms`
        : r.signal !== null
          ? `was killed by ${r.signal} after ${r.durationMs} ms`
          : `exited with ${r.exitCode ?? '?'} after ${r.durationMs} ms`
  return lastLine === undefined ? `\`${cmd}\` ${why}` : `\`${cmd}\` ${why}: ${lastLine}`
}

/** A file or folder the operator named cannot be read, written or created. */
export class FileAccessError extends SpamsyncError {}

/** A peer answered a fetch that named one exact archive (version, size, sha256) with another one: it is refused and the fetcher asks elsewhere. */
export class WrongArchiveError extends SpamsyncError {}

/**
 * One line for anything thrown. libp2p rejects some waits with a stream's close Event, not an
 * Error, and String() of that is "[object Event]".
 */
export function errorMessage (err: unknown): string {
  if (err instanceof Error) return err.message
  if (err instanceof Event) {
    const inner = (err as Event & { error?: unknown }).error
    const what = err.type === 'close' ? 'stream closed' : `stream event "${err.type}"`
    return inner instanceof Error ? `${what}: ${inner.message}` : what
  }
  const message = (err as { message?: unknown } | null | undefined)?.message
  return typeof message === 'string' ? message : String(err)
}

/** A peer's beacon carries a number out of its bound (protocol/election-v1.md); it is dropped. */
export class BeaconBoundsError extends SpamsyncError {}

/** A peer's beacon frame is not a Beacon message; it is dropped (the sender's next one may be fine). */
export class BeaconDecodeError extends SpamsyncError {}

/** A beacon link's frame declares more bytes than a beacon may have, or a length prefix that is no varint; the link is closed. */
export class BeaconFrameError extends SpamsyncError {}

/**
 * A signed beacon that must not count as its author's: its signature is not the author's, or a
 * relayed copy came late (election-v1.md, "Relayed heartbeat"). It is dropped.
 */
export class BeaconRelayError extends SpamsyncError {}

/**
 * A settings file is not one the agent may read or write: a symlink that leads out of the
 * settings folder (or to nothing), or not a regular file (a folder, a FIFO, a device). Its
 * content is never read, so nothing of it is shown anywhere.
 */
export class UnsafeSettingsFileError extends SpamsyncError {}

/** A settings file is larger than maxSettingsFileBytes; it is not read. */
export class SettingsFileTooLargeError extends SpamsyncError {}

/** A settings file kept changing while the agent tried to write it; nothing was overwritten, the write is tried again later. */
export class SettingsFileBusyError extends SpamsyncError {}

/** The term file cannot be read or holds no term: the node does not start rather than go back to an older term. */
export class TermFileError extends SpamsyncError {}

/** A file view's text was used while it was let go (src/replica/file-views.ts): a bug, as every user reads it back first. */
export class FileViewReleasedError extends SpamsyncError {
  override readonly expected = false
}
