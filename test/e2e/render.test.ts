/**
 * `spamsync render` as a real process: prints one output rendered from the list files, writes it
 * with --out, and refuses bad flags with one line.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI } from '../helpers/agents.js'

async function settings (t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-render-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  await mkdir(join(dir, 'settings'))
  await writeFile(join(dir, 'settings', 'whitelist.txt'), '# ours\nJoe@Example.com trusted customer\n')
  await writeFile(join(dir, 'settings', 'blacklist.txt'), 'joe@example.com\n*.spam.example 550 5.7.1 no\n10.0.0.0/8\nnot a key!\n')
  return dir
}

function render (args: string[]): { code: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'render', ...args], { encoding: 'utf8' })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

test('render prints the output and a summary of what was left out and why', async (t) => {
  const dir = await settings(t)
  const r = render(['--format', 'postfix-access', '--datasets', 'whitelist,blacklist', '--settings-dir', join(dir, 'settings')])
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(r.stdout.split('\n').filter(l => !l.startsWith('#') && l !== ''), ['.spam.example 550 5.7.1 no', 'joe@example.com OK'])
  assert.equal(r.stderr, 'postfix-access: 2 entries written; left out: 1 IP address or CIDR block (goes in a postfix-cidr output); 1 keys in lists with opposite verdicts\n')
})

test('render --out writes the file; a config file gives the settings folder', async (t) => {
  const dir = await settings(t)
  await writeFile(join(dir, 'spamsync.json'), JSON.stringify({ settingsDir: 'settings' }))
  const out = join(dir, 'client.cidr')
  const r = render(['--format', 'postfix-cidr', '--datasets', 'blacklist', '--config', join(dir, 'spamsync.json'), '--out', out])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout, '')
  assert.match(await readFile(out, 'utf8'), /^10\.0\.0\.0\/8 REJECT$/m)
})

test('render refuses an unknown format, an unknown list and a mixed rspamd map with one line, exit 2', () => {
  for (const [args, why] of [
    [['--format', 'exim', '--datasets', 'blacklist'], /--format must be one of/],
    [['--format', 'spamassassin', '--datasets', 'greylist'], /--datasets must list some of .* got 'greylist'/],
    [['--format', 'rspamd-from', '--datasets', 'whitelist,blacklist'], /holds one verdict/]
  ] as const) {
    const r = render([...args])
    assert.equal(r.code, 2)
    assert.match(r.stderr, why)
    assert.equal(r.stderr.trim().split('\n').length, 1)
  }
})
