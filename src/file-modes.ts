/**
 * Who may read the node's secrets on disk. The data folder holds the node's private key (in
 * LevelDB, whose files are 0644) and the control token, so the folder itself is kept 0700; the
 * cluster key may live anywhere, so a key or token file that group or others may open is only
 * warned about (status `warnings` and the log), never changed behind the operator's back.
 */
import { statSync } from 'node:fs'
import { chmod, mkdir, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { FileAccessError } from './errors.js'

/** Permission bits of group and others. */
const GROUP_OTHER = 0o077

function octal (mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0')
}

/**
 * Creates `dir` (and missing parents) mode 0700, or tightens an existing one this user owns to
 * 0700. Resolves to the mode it had when it was tightened, else null. A folder of another user
 * is left as it is (`secretWarnings` then names it).
 */
export async function makePrivateFolder (dir: string): Promise<number | null> {
  try {
    // Parents get the usual mode: the settings folder may share one with the data folder.
    await mkdir(dirname(dir), { recursive: true })
    await mkdir(dir, { mode: 0o700 }).catch((err) => { if (err?.code !== 'EEXIST') throw err })
    const st = await stat(dir)
    if ((st.mode & GROUP_OTHER) === 0 || st.uid !== process.getuid?.()) return null
    await chmod(dir, st.mode & 0o700)
    return st.mode & 0o777
  } catch (err: any) {
    throw new FileAccessError(`cannot create folder ${dir} (mode 0700): ${err?.code ?? err}`, { cause: err })
  }
}

/** A secret on disk whose mode is checked: what it is, where, and whether it is the data folder. */
export interface Secret {
  what: string
  path: string
  folder?: boolean
}

/**
 * One line for each secret that group or others may open (a missing file is none): what it is,
 * its mode and the command that fixes it.
 */
export function secretWarnings (secrets: readonly Secret[]): string[] {
  const out: string[] = []
  for (const s of secrets) {
    let mode: number
    try {
      mode = statSync(s.path).mode
    } catch (err: any) {
      if (err?.code !== 'ENOENT') out.push(`cannot check who may read the ${s.what} ${s.path}: ${err?.code ?? err}`)
      continue
    }
    if ((mode & GROUP_OTHER) === 0) continue
    out.push(s.folder === true
      ? `the ${s.what} ${s.path} is open to group or others (mode ${octal(mode)}) and owned by another user, so the agent left it: chmod 700 ${s.path}`
      : `the ${s.what} ${s.path} is open to group or others (mode ${octal(mode)}): chmod 600 ${s.path}`)
  }
  return out
}

/** Checks secrets' modes on every call, and logs each warning once, while it holds. */
export class SecretModeWarnings {
  private readonly logged = new Set<string>()

  constructor (private readonly secrets: readonly Secret[], private readonly log: (warning: string) => void) {}

  /** The warnings that hold now (status shows them); a new one is logged. */
  check (): string[] {
    const found = secretWarnings(this.secrets)
    for (const w of found) {
      if (this.logged.has(w)) continue
      this.logged.add(w)
      this.log(w)
    }
    return found
  }
}

/** The secrets of an agent: its data folder, cluster key and control token. */
export function agentSecrets (dataDir: string, clusterKey: string, controlToken: string): Secret[] {
  return [
    { what: 'data folder', path: dataDir, folder: true },
    { what: 'cluster key', path: clusterKey },
    { what: 'control token', path: controlToken }
  ]
}
