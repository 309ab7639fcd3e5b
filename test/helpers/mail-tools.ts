/**
 * Drives the real Postfix, SpamAssassin and rspamd tools from Debian on rendered outputs, each
 * with a configuration of its own in a temp folder (nothing under /etc is read or changed
 * besides SpamAssassin's stock .pre files, which are copied).
 */
import { execFile, spawn } from 'node:child_process'
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const execFileP = promisify(execFile)

/** Postfix's programs are in /usr/sbin, which a test's PATH may lack. */
export const POSTMAP = '/usr/sbin/postmap'

/** A folder holding a main.cf for `postmap -c` (postmap needs one; no DNS lookup of the host name). */
export async function postfixConfigDir (dir: string): Promise<string> {
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'main.cf'), 'myhostname = test.example\ncompatibility_level = 3.6\n')
  return dir
}

/** Runs a program with stdin; resolves with its exit code, stdout and stderr (never rejects on a non-zero exit). */
export async function runWithInput (file: string, args: string[], input: string, env?: NodeJS.ProcessEnv): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s })
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
    child.once('error', reject)
    child.once('close', (code) => { resolve({ code, stdout, stderr }) })
    child.stdin.end(input)
  })
}

/**
 * `postmap TYPE:FILE` (for hash) and then `postmap -q - TYPE:FILE` with `keys`: the value of
 * each key found. Throws if postmap warns about any line (a warning means a line was ignored).
 */
export async function postmapQuery (confDir: string, table: string, keys: string[], build: boolean): Promise<Map<string, string>> {
  if (build) {
    const { code, stderr } = await runWithInput(POSTMAP, ['-c', confDir, table], '')
    if (code !== 0 || stderr !== '') throw new Error(`postmap ${table} exited ${code}: ${stderr}`)
  }
  const { code, stdout, stderr } = await runWithInput(POSTMAP, ['-c', confDir, '-q', '-', table], keys.join('\n') + '\n')
  if ((code !== 0 && code !== 1) || stderr !== '') throw new Error(`postmap -q - ${table} exited ${code}: ${stderr}`)
  const out = new Map<string, string>()
  for (const line of stdout.split('\n')) {
    const tab = line.indexOf('\t')
    if (tab > 0) out.set(line.slice(0, tab), line.slice(tab + 1))
  }
  return out
}

/** A SpamAssassin site config folder: the stock .pre files plus `files` (name -> content). */
export async function saSiteConfig (dir: string, files: Record<string, string>): Promise<string> {
  await mkdir(dir, { recursive: true })
  for (const f of await readdir('/etc/spamassassin')) if (f.endsWith('.pre')) await copyFile(join('/etc/spamassassin', f), join(dir, f))
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
  return dir
}

function saEnv (home: string): NodeJS.ProcessEnv {
  return { ...process.env, HOME: home, TZ: 'UTC' }
}

/** `spamassassin --lint` on a site config folder: the exit code and the warnings. */
export async function saLint (siteDir: string, home: string): Promise<{ code: number | null, stderr: string }> {
  const { code, stderr } = await runWithInput('spamassassin', ['-L', '--lint', `--siteconfigpath=${siteDir}`], '', saEnv(home))
  return { code, stderr }
}

/** `spamassassin -t` on one message: the rule names that hit. */
export async function saHits (siteDir: string, home: string, message: string): Promise<string[]> {
  const { code, stdout, stderr } = await runWithInput('spamassassin', ['-L', '-t', `--siteconfigpath=${siteDir}`], message, saEnv(home))
  if (code !== 0) throw new Error(`spamassassin -t exited ${code}: ${stderr}`)
  const status = /^X-Spam-Status: .*?tests=([\s\S]*?)(?: autolearn=|\n\S)/m.exec(stdout)
  if (status === null) throw new Error(`no X-Spam-Status in:\n${stdout}`)
  return status[1].split(/[\s,]+/).filter(s => s !== '')
}

/**
 * `rspamadm configtest -s` (strict) with LOCAL_CONFDIR=`localDir` (its local.d holds the
 * multimap block). fuzzy_check is turned off: its servers need DNS, which a test has not.
 */
export async function rspamdConfigtest (localDir: string): Promise<{ code: number, output: string }> {
  await mkdir(join(localDir, 'override.d'), { recursive: true })
  await writeFile(join(localDir, 'override.d', 'fuzzy_check.conf'), 'enabled = false;\n')
  try {
    const { stdout, stderr } = await execFileP('rspamadm', [`--var=LOCAL_CONFDIR=${localDir}`, `--var=DBDIR=${localDir}`, 'configtest', '-s'])
    return { code: 0, output: stdout + stderr }
  } catch (err: any) {
    return { code: err.code ?? -1, output: String(err.stdout ?? '') + String(err.stderr ?? '') }
  }
}
