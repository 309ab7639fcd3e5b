/**
 * The control token: a secret in the data folder that a `POST` to the HTTP API must carry when
 * the API listens on more than the loopback interface. Whoever can read the data folder (the
 * agent's user, root) may control the agent; anyone else who reaches the port may only read.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { FileAccessError } from '../errors.js'

/** File name of the token inside the data folder. */
export const CONTROL_TOKEN_FILE = 'http.token'

/** Header scheme the token travels in: `Authorization: Bearer <token>`. */
export const TOKEN_SCHEME = 'Bearer'

/** Path of the token file of a data folder. */
export function controlTokenPath (dataDir: string): string {
  return join(dataDir, CONTROL_TOKEN_FILE)
}

/**
 * Reads the data folder's token, creating it (mode 0600, never overwriting) on first use.
 * Created whatever the bind address, so a later switch to a non-loopback bind needs no step.
 */
export async function loadOrCreateControlToken (dataDir: string): Promise<string> {
  const file = controlTokenPath(dataDir)
  const existing = await readControlToken(dataDir)
  if (existing !== null) return existing
  const token = randomBytes(32).toString('hex')
  try {
    await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' })
  } catch (err: any) {
    // Another process created it between our read and our write: theirs counts.
    if (err?.code === 'EEXIST') {
      const theirs = await readControlToken(dataDir)
      if (theirs !== null) return theirs
    }
    throw new FileAccessError(`cannot write the HTTP control token ${file}: ${err?.code ?? err}`, { cause: err })
  }
  return token
}

/** The data folder's token, or null when there is none; a file that exists but cannot be read is an error. */
export async function readControlToken (dataDir: string): Promise<string | null> {
  const file = controlTokenPath(dataDir)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err: any) {
    if (err?.code === 'ENOENT') return null
    throw new FileAccessError(`cannot read the HTTP control token ${file}: ${err?.code ?? err}`, { cause: err })
  }
  const token = text.trim()
  return token === '' ? null : token
}

/** True when `host` only accepts connections from this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost (host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1')
  if (h === 'localhost') return true
  if (isIP(h) === 4) return h.startsWith('127.')
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h)
  return false
}

/** Whether an `Authorization` header carries `token`: missing, wrong or right. */
export function checkToken (header: string | undefined, token: string): 'missing' | 'wrong' | 'ok' {
  if (header === undefined || header.trim() === '') return 'missing'
  const m = /^(\S+)\s+(\S+)$/.exec(header.trim())
  if (m === null || m[1].toLowerCase() !== TOKEN_SCHEME.toLowerCase()) return 'wrong'
  const given = Buffer.from(m[2])
  const want = Buffer.from(token)
  // Compared in constant time so the answer's timing does not reveal a prefix.
  return given.length === want.length && timingSafeEqual(given, want) ? 'ok' : 'wrong'
}
