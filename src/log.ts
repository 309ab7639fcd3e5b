/**
 * Structured logs: one JSON line per event on stderr (pino), so journald and log shippers can
 * index them. Events are logged when they happen, never from a loop that repeats them.
 */
import { pino, type Logger } from 'pino'
import type { Config } from './config.js'

/** The agent's logger. */
export type Log = Logger

/** A logger at the configured level. */
export function createLog (level: Config['logLevel']): Log {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }))
}
