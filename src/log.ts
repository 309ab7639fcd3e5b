/**
 * Structured logs: one JSON line per event on stderr (pino), so journald and log shippers can
 * index them. Events are logged when they happen, never from a loop that repeats them.
 */
import { pino, type Logger } from 'pino'
import type { Config } from './config.js'

/** The agent's logger. */
export type Log = Logger

/** A logger at the configured level; every line names the node (`node`), so merged logs stay apart. */
export function createLog (level: Config['logLevel'], node: string): Log {
  return pino({ level, base: { node }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }))
}
