/**
 * The cluster key: the shared secret that admits a node to a cluster. Never sent anywhere;
 * only values derived from it (HKDF) are used, each for one purpose, so knowing one (the mDNS
 * service name is public on the LAN) reveals nothing about the others.
 */
import { hkdfSync, randomBytes } from 'node:crypto'
import { readFile, writeFile, stat } from 'node:fs/promises'
import { ClusterKeyError } from '../errors.js'

/** First line of a key file, so a wrong file is refused rather than misread. */
const KEY_HEADER = 'spamsync-cluster-key/1'

/** Bytes of key material. */
const KEY_BYTES = 32

/** Salt of every derivation: ties derived values to this application. */
const HKDF_SALT = 'spamsync'

/** A loaded cluster key. */
export interface ClusterKey {
  /** The secret. */
  readonly secret: Uint8Array
}

/** A new random key. */
export function generateClusterKey (): ClusterKey {
  return { secret: randomBytes(KEY_BYTES) }
}

/** The key file's text. */
export function formatClusterKey (key: ClusterKey): string {
  return `${KEY_HEADER}\n${Buffer.from(key.secret).toString('hex')}\n`
}

/** Parses a key file's text. */
export function parseClusterKey (text: string, source: string): ClusterKey {
  const [header, hex] = text.trim().split(/\r?\n/)
  if (header !== KEY_HEADER || hex === undefined || !/^[0-9a-f]{64}$/.test(hex.trim())) {
    throw new ClusterKeyError(`${source} is not a spamsync cluster key (make one with: spamsync keygen --out FILE)`)
  }
  return { secret: Buffer.from(hex.trim(), 'hex') }
}

/** Reads a key file. */
export async function readClusterKey (file: string): Promise<ClusterKey> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err: any) {
    throw new ClusterKeyError(`cannot read cluster key ${file}: ${err?.code ?? err}`, { cause: err })
  }
  return parseClusterKey(text, file)
}

/** Writes a key file readable by its owner only; refuses to overwrite an existing one. */
export async function writeClusterKey (file: string, key: ClusterKey): Promise<void> {
  try {
    await writeFile(file, formatClusterKey(key), { mode: 0o600, flag: 'wx' })
  } catch (err: any) {
    if (err?.code === 'EEXIST') throw new ClusterKeyError(`${file} exists already; refusing to overwrite a cluster key`)
    throw new ClusterKeyError(`cannot write cluster key ${file}: ${err?.code ?? err}`, { cause: err })
  }
}

/** Reads the key file, creating a new key there first if the file does not exist. */
export async function loadOrCreateClusterKey (file: string): Promise<ClusterKey> {
  try {
    await stat(file)
  } catch {
    await writeClusterKey(file, generateClusterKey())
  }
  return await readClusterKey(file)
}

function derive (key: ClusterKey, info: string, length: number): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', key.secret, HKDF_SALT, info, length))
}

/** Noise prologue: both sides must hold the same one, so a peer without the key fails the handshake. */
export function noisePrologue (key: ClusterKey): Uint8Array {
  return derive(key, 'noise-prologue/1', 32)
}

/** mDNS service name: clusters with other keys on one LAN do not even see each other. */
export function mdnsServiceTag (key: ClusterKey): string {
  return `spamsync-${Buffer.from(derive(key, 'mdns-service/1', 6)).toString('hex')}`
}
