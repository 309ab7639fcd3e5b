/**
 * Structured logs: one JSON line per event on stderr (pino), so journald and log shippers can
 * index them. Events are logged when they happen, never from a loop that repeats them.
 */
import { pino, type Logger } from 'pino'

/** The agent's logger. */
export type Log = Logger

/** The levels an operator can choose (config key `logLevel`). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

/** A logger at the configured level; every line names the node (`node`), so merged logs stay apart. */
export function createLog (level: LogLevel, node: string): Log {
  return pino({ level, base: { node }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }))
}
