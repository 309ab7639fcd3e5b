/**
 * Drives the real SpamAssassin `sa-learn` for integration tests: one isolated Bayes DB per folder,
 * learned from the SpamAssassin public corpus, read back with `--backup`.
 *
 * Isolation and determinism (measured with SpamAssassin 4.0.1, see the additivity test):
 * - `--siteconfigpath` is a folder of our own (the Bayes plugin and SA_LOCAL_CF), so neither
 *   /etc/spamassassin nor a user's prefs apply; `-C` pins the stock rules, so an `sa-update`
 *   on the machine changes nothing; HOME is the node folder, as sa-learn creates
 *   `~/.spamassassin` even with `-p`.
 * - `-L`: no network. No `--no-sync`: it forces learning into the journal, which `--backup`
 *   does not read; learning straight into the DB needs no sync step.
 * - `bayes_auto_expire 0`: an expiry run would drop tokens by the wall clock.
 * - TZ=UTC: a message whose only date is a zone-less mbox `From ` line is dated in local time.
 * Token atimes are message dates, so two runs on the same files give the same DB.
 */
import { execFile } from 'node:child_process'
import { accessSync, constants, existsSync, readdirSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { delimiter, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const execFileP = promisify(execFile)

/** The repository root (this file runs from dist/test/helpers/). */
const REPO = resolve(fileURLToPath(import.meta.url), '../../../..')

/** Why SpamAssassin tests skip when sa-learn is missing. */
export const SA_SKIP_REASON = 'sa-learn not installed (apt-get install spamassassin)'

/** The SpamAssassin public corpus: one folder per group, one message per `.txt` file. */
export const CORPUS_DIR = join(REPO, 'node_modules', '@stdlib', 'datasets-spam-assassin', 'data')

/** The corpus groups (2500, 1400, 250 ham; 500, 1396 spam). */
export type CorpusGroup = 'easy-ham-1' | 'easy-ham-2' | 'hard-ham-1' | 'spam-1' | 'spam-2'

/**
 * The configuration every test DB uses (site `local.cf`). Additivity needs only
 * `bayes_auto_expire 0`; the rest pins defaults so a changed default cannot change the result.
 */
export const SA_LOCAL_CF = [
  'use_bayes 1',
  'bayes_auto_expire 0',
  'bayes_learn_to_journal 0',
  'bayes_store_module Mail::SpamAssassin::BayesStore::DBM',
  'bayes_auto_learn 0',
  'lock_method flock',
  ''
].join('\n')

/** Without it in a `.pre` file of the site config, sa-learn tokenizes nothing. */
const SA_INIT_PRE = 'loadplugin Mail::SpamAssassin::Plugin::Bayes\n'

/** Where the stock rules live on Debian and on a CPAN install. */
const RULES_DIRS = ['/usr/share/spamassassin', '/usr/local/share/spamassassin']

/** Files per sa-learn run: each run costs ~1-3 s of rule parsing, argv stays far below its limit. */
const LEARN_BATCH = 500

/** Output cap for `--backup` (the default 1 MiB is a few hundred messages' worth). */
const MAX_BUFFER = 512 * 1024 * 1024

let saLearnCache: string | null | undefined

/** Absolute path of `sa-learn` on PATH, or null when it is not installed. */
export function saLearnPath (): string | null {
  if (saLearnCache !== undefined) return saLearnCache
  saLearnCache = null
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    const candidate = join(dir, 'sa-learn')
    try {
      accessSync(candidate, constants.X_OK)
      saLearnCache = candidate
      break
    } catch {}
  }
  return saLearnCache
}

/** Absolute paths of the messages of one corpus group, sorted by name. */
export function corpusMessages (group: CorpusGroup): string[] {
  const dir = join(CORPUS_DIR, group)
  return readdirSync(dir).filter((f) => f.endsWith('.txt')).sort().map((f) => join(dir, f))
}

/** The files of one Bayes DB folder. */
function layout (dbpath: string): { bayesPath: string, site: string, prefs: string, home: string } {
  return {
    bayesPath: join(dbpath, 'bayes'), // SA appends _toks, _seen, _journal
    site: join(dbpath, 'sa-site'),
    prefs: join(dbpath, 'sa-site', 'user_prefs'),
    home: join(dbpath, 'sa-home')
  }
}

/** Creates the folder's private SpamAssassin config (idempotent). */
async function prepare (dbpath: string): Promise<void> {
  const l = layout(dbpath)
  await mkdir(l.site, { recursive: true })
  await mkdir(l.home, { recursive: true })
  await writeFile(join(l.site, 'init.pre'), SA_INIT_PRE)
  await writeFile(join(l.site, 'local.cf'), SA_LOCAL_CF)
  await writeFile(l.prefs, '')
}

/** The sa-learn arguments that make it use only this folder, and no network. */
export function saArgs (dbpath: string): string[] {
  const l = layout(dbpath)
  const rules = RULES_DIRS.find((d) => existsSync(join(d, '10_default_prefs.cf')))
  return [
    '-L',
    // With no stock rules, the (empty) site folder stands in: learning works, only warns.
    '-C', rules ?? l.site,
    '--siteconfigpath', l.site,
    '-p', l.prefs,
    '--dbpath', l.bayesPath
  ]
}

/** Runs sa-learn for `dbpath` with `args`; rejects with its stderr on a non-zero exit. */
async function saLearn (dbpath: string, args: string[]): Promise<{ stdout: string, stderr: string }> {
  const bin = saLearnPath()
  if (bin === null) throw new Error(SA_SKIP_REASON)
  await prepare(dbpath)
  return await execFileP(bin, [...saArgs(dbpath), ...args], {
    env: { ...process.env, HOME: layout(dbpath).home, TZ: 'UTC', LC_ALL: 'C' },
    maxBuffer: MAX_BUFFER,
    encoding: 'utf8'
  })
}

/** What one learn call did. */
export interface LearnResult {
  /** Messages whose tokens went into the DB. */
  learned: number
  /** Messages read; the rest were already learned (same SpamAssassin message id). */
  examined: number
  /** Wall time in ms. */
  durationMs: number
}

/** Learns `files` as spam or ham into the DB of folder `dbpath`, in batches, one process at a time. */
export async function learn (dbpath: string, files: string[], kind: 'spam' | 'ham'): Promise<LearnResult> {
  const start = performance.now()
  let learned = 0
  let examined = 0
  for (let i = 0; i < files.length; i += LEARN_BATCH) {
    const { stdout } = await saLearn(dbpath, [`--${kind}`, ...files.slice(i, i + LEARN_BATCH)])
    const m = /Learned tokens from (\d+) message\(s\) \((\d+) message\(s\) examined\)/.exec(stdout)
    if (m === null) throw new Error(`unexpected sa-learn output: ${stdout}`)
    learned += Number(m[1])
    examined += Number(m[2])
  }
  return { learned, examined, durationMs: Math.round(performance.now() - start) }
}

/** The DB of folder `dbpath` as `sa-learn --backup` text. */
export async function backup (dbpath: string): Promise<string> {
  return (await saLearn(dbpath, ['--backup'])).stdout
}

/** Replaces the DB of folder `dbpath` with the backup in `file` (sa-learn wipes it first). */
export async function restore (dbpath: string, file: string): Promise<void> {
  await saLearn(dbpath, ['--restore', file])
}

/** A backup reduced to what two DBs must share to be the same DB. */
export interface ComparableBackup {
  /** The `v` lines. */
  magic: { dbVersion: number, numSpam: number, numHam: number }
  /** token (hex) -> "spam ham atime". */
  tokens: Map<string, string>
  /** message id -> 's' or 'h'. */
  seen: Map<string, string>
  /** `v` lines other than db_version, num_spam and num_nonspam (none are expected). */
  otherMagic: string[]
}

/** Parses `sa-learn --backup` text for comparison; throws on a line it does not know. */
export function parseBackupForCompare (text: string): ComparableBackup {
  const out: ComparableBackup = { magic: { dbVersion: -1, numSpam: -1, numHam: -1 }, tokens: new Map(), seen: new Map(), otherMagic: [] }
  for (const line of text.split('\n')) {
    if (line === '') continue
    const f = line.split('\t')
    if (f[0] === 't' && f.length === 5) {
      out.tokens.set(f[4], `${f[1]} ${f[2]} ${f[3]}`)
    } else if (f[0] === 's' && f.length === 3) {
      out.seen.set(f[2], f[1])
    } else if (f[0] === 'v' && f.length === 3) {
      const name = f[2].split(' ')[0]
      if (name === 'db_version') out.magic.dbVersion = Number(f[1])
      else if (name === 'num_spam') out.magic.numSpam = Number(f[1])
      else if (name === 'num_nonspam') out.magic.numHam = Number(f[1])
      else out.otherMagic.push(line)
    } else {
      throw new Error(`unexpected backup line: ${JSON.stringify(line)}`)
    }
  }
  return out
}
