/**
 * The control token: a secret in the data folder that every `POST` to the HTTP API must carry,
 * whatever the bind address (on 127.0.0.1 a web page in a local browser could post otherwise).
 * Whoever can read the data folder (the agent's user, root) may control the agent; anyone else
 * who reaches the port may only read. Also which `Host` names a request may use.
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
 * Every bind address needs it (control requests always carry it).
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

/** The host name or address of a `Host` header (`name:port`, `[v6]:port`), lower case; null when it is none. */
export function hostOfHeader (header: string | undefined): string | null {
  if (header === undefined) return null
  const h = header.trim().toLowerCase()
  const m = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h) ?? /^([^:[\]\s/]+)(?::\d{1,5})?$/.exec(h)
  return m === null ? null : m[1].replace(/\.$/, '')
}

/**
 * Whether a request with this `Host` header is addressed to this agent by a name no outsider
 * controls: `localhost`, an IP address (DNS cannot re-point an address), or one of `allowed`
 * (`httpAllowedHosts`, the agent's own DNS names). Any other name may be an attacker's, re-pointed
 * at this machine after a page of theirs loaded (DNS rebinding).
 */
export function hostAllowed (header: string | undefined, allowed: readonly string[]): boolean {
  const host = hostOfHeader(header)
  if (host === null) return false
  if (isIP(host) !== 0 || host === 'localhost') return true
  return allowed.some(name => name.toLowerCase().replace(/\.$/, '') === host)
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
