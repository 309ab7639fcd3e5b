/**
 * The Debian package (`npm run package`, i.e. scripts/package.sh on the built dist/): built once
 * for this file, checked with lintian and `dpkg-deb --contents`, then unpacked into a temp root
 * (`dpkg-deb -x`) and run from there as an operator's server would run it: `--version`, `init`,
 * and two agents of the packaged runtime syncing a change over 127.0.0.1.
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { cp, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { stripLineComments } from '../../src/config.js'
import { AgentProcess, REPO, freePort, waitFor } from '../helpers/agents.js'

const run = promisify(execFile)

/** Why the package cannot be built here, or null. */
function toolsMissing (): string | null {
  for (const [tool, pkg] of [['dpkg-deb', 'dpkg'], ['dpkg-shlibdeps', 'dpkg-dev'], ['lintian', 'lintian'], ['strip', 'binutils']]) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'pipe' })
    } catch {
      return `${tool} is not available (Debian package ${pkg})`
    }
  }
  return null
}

const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8'))

/** Path -> `ls -l`-style mode and owner of every entry of the package. */
function contents (deb: string): Map<string, { mode: string, owner: string, size: number }> {
  const out = execFileSync('dpkg-deb', ['--contents', deb], { encoding: 'utf8', maxBuffer: 64 << 20 })
  const entries = new Map<string, { mode: string, owner: string, size: number }>()
  for (const line of out.split('\n')) {
    const m = line.match(/^(\S+) (\S+)\s+(\d+) \S+ \S+ \.(\/\S*?)\/?(?: -> .*)?$/)
    if (m !== null) entries.set(m[4], { mode: m[1], owner: m[2], size: Number(m[3]) })
  }
  return entries
}

/** An agent run by the unpacked package's /usr/bin/spamsync instead of the checkout's CLI. */
class PackagedAgent extends AgentProcess {
  constructor (readonly wrapper: string, dir: string, port: number, httpPort: number, keyFile: string) {
    super(dir, port, httpPort, keyFile)
  }

  protected override command (bootstrap: string[]): { file: string, args: string[] } {
    // startArgs() starts with the checkout's CLI path, which the wrapper replaces.
    return { file: this.wrapper, args: this.startArgs(`/ip4/127.0.0.1/tcp/${this.port}`, bootstrap).slice(1) }
  }
}

const missing = toolsMissing()

describe('the Debian package', { skip: missing ?? false, timeout: 600_000 }, () => {
  let work: string
  let deb: string
  let root: string
  let files: ReturnType<typeof contents>
  const agents: PackagedAgent[] = []

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'spamsync-package-'))
    const { stdout } = await run('sh', [join(REPO, 'scripts', 'package.sh'), join(work, 'out')], { cwd: REPO, maxBuffer: 16 << 20 })
    deb = stdout.trim().split('\n').at(-1) ?? ''
    root = join(work, 'root')
    await run('dpkg-deb', ['-x', deb, root])
    files = contents(deb)
  })
  after(async () => {
    await Promise.all(agents.map(async a => { await a.kill9() }))
    if (work !== undefined) await rm(work, { recursive: true, force: true })
  })

  test('is named after the version and the architecture, and is within its size limits', async () => {
    const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim()
    assert.equal(deb, join(work, 'out', `spamsync_${pkg.version}_${arch}.deb`))
    assert.ok((await stat(deb)).size <= 60 * 1024 * 1024, `the .deb is ${(await stat(deb)).size} bytes`)
    const installedKiB = Number(execFileSync('dpkg-deb', ['-f', deb, 'Installed-Size'], { encoding: 'utf8' }))
    assert.ok(installedKiB <= 200 * 1024, `installed size ${installedKiB} KiB`)
  })

  test('lintian finds no errors', async () => {
    const r = await run('lintian', ['--fail-on', 'error', deb], { maxBuffer: 16 << 20 }).catch((err: any) => err)
    assert.equal(r.code ?? 0, 0, `lintian:\n${r.stdout}${r.stderr}`)
  })

  test('holds the runtime, the built code, the unit and the conffile with their modes, and no key', async () => {
    const expect: Array<[string, string]> = [
      ['/usr/bin/spamsync', '-rwxr-xr-x'],
      ['/usr/lib/spamsync/bin/node', '-rwxr-xr-x'],
      ['/usr/lib/spamsync/bin/spamsync.js', '-rw-r--r--'],
      ['/usr/lib/spamsync/package.json', '-rw-r--r--'],
      ['/usr/lib/spamsync/dist/bundle/spamsync.js', '-rw-r--r--'],
      ['/usr/lib/spamsync/node_modules/libp2p/package.json', '-rw-r--r--'],
      ['/lib/systemd/system/spamsync.service', '-rw-r--r--'],
      ['/etc/spamsync/spamsync.json', '-rw-r--r--'],
      ['/usr/share/doc/spamsync/copyright', '-rw-r--r--'],
      ['/usr/share/doc/spamsync/changelog.gz', '-rw-r--r--']
    ]
    for (const [path, mode] of expect) {
      assert.deepEqual({ path, ...files.get(path) }, { path, mode, owner: 'root/root', size: files.get(path)?.size }, path)
    }
    for (const [path, entry] of files) assert.equal(entry.owner, 'root/root', path)
    // The key is made on each server by postinst; a shipped one would be everyone's key.
    assert.deepEqual([...files.keys()].filter(p => p.startsWith('/etc/spamsync/')), ['/etc/spamsync/spamsync.json'])
    assert.ok(![...files.keys()].some(p => p.startsWith('/var/')), 'the data folder is made by postinst')
    const conffiles = execFileSync('dpkg-deb', ['--info', deb, 'conffiles'], { encoding: 'utf8' })
    assert.equal(conffiles, '/etc/spamsync/spamsync.json\n')
    const depends = execFileSync('dpkg-deb', ['-f', deb, 'Depends'], { encoding: 'utf8' })
    assert.match(depends, /libc6 \(>= [\d.]+\)/)
    assert.match(depends, /\badduser\b/)
    assert.doesNotMatch(depends, /nodejs/, 'the package brings its own Node.js')
  })

  test('holds production dependencies only: no dev dependency, no test data, no sources or maps', async () => {
    const paths = [...files.keys()]
    const lock = JSON.parse(await readFile(join(REPO, 'package-lock.json'), 'utf8'))
    // Every package the lockfile marks dev-only, at the place npm puts it.
    const devOnly = Object.entries(lock.packages as Record<string, { dev?: boolean }>).filter(([p, e]) => p !== '' && e.dev === true).map(([p]) => `/usr/lib/spamsync/${p}/`)
    assert.ok(devOnly.some(p => p.endsWith('/node_modules/typescript/')), 'the lockfile marks dev-only packages')
    const found = devOnly.filter(d => paths.some(p => p.startsWith(d)))
    assert.deepEqual(found, [])
    for (const name of Object.keys(pkg.devDependencies)) {
      assert.ok(!paths.some(p => p.startsWith(`/usr/lib/spamsync/node_modules/${name}/`)), name)
    }
    for (const name of Object.keys(pkg.dependencies)) {
      assert.ok(paths.includes(`/usr/lib/spamsync/node_modules/${name}/package.json`), name)
    }
    assert.deepEqual(paths.filter(p => /\/(test|tests|__tests__|bench)\//.test(p) || /\.(map|ts)$/.test(p)), [])
    assert.ok(!paths.some(p => p.startsWith('/usr/lib/spamsync/dist/') && !p.startsWith('/usr/lib/spamsync/dist/bundle')), 'only dist/bundle')
    // classic-level's LevelDB binding for this platform only.
    const nodeArch = process.arch
    const prebuilds = paths.filter(p => p.includes('/prebuilds/') && p.endsWith('.node'))
    assert.deepEqual(prebuilds, [`/usr/lib/spamsync/node_modules/classic-level/prebuilds/linux-${nodeArch}/classic-level.node`])
  })

  test('the unpacked spamsync prints its versions and runs init, with and without the shipped config', async () => {
    const wrapper = join(root, 'usr', 'bin', 'spamsync')
    // No node on the PATH: the package must bring its own.
    const env = { PATH: '/usr/bin:/bin', HOME: work }
    const { stdout: version } = await run(wrapper, ['--version'], { env })
    assert.match(version, new RegExp(`^spamsync ${pkg.version.replace(/\./g, '\\.')} \\(protocol 1, Node\\.js 24\\.\\d+\\.\\d+\\)\\n$`))

    const etc = join(work, 'init')
    const r = await run(wrapper, ['init', '--dir', etc], { env })
    assert.match(r.stdout, /wrote a new cluster key/)
    assert.equal((await stat(join(etc, 'cluster.key'))).mode & 0o777, 0o600)
    assert.equal(JSON.parse(stripLineComments(await readFile(join(etc, 'spamsync.json'), 'utf8'))).dataDir, 'data')

    // What postinst does next to the conffile: key and settings, the config left as shipped.
    const shipped = join(work, 'etc-spamsync')
    await cp(join(root, 'etc', 'spamsync'), shipped, { recursive: true })
    const before = await readFile(join(shipped, 'spamsync.json'), 'utf8')
    assert.equal(JSON.parse(stripLineComments(before)).dataDir, '/var/lib/spamsync')
    await run(wrapper, ['init', '--dir', shipped, '--without-config'], { env })
    assert.equal(await readFile(join(shipped, 'spamsync.json'), 'utf8'), before)
    assert.equal((await stat(join(shipped, 'cluster.key'))).mode & 0o777, 0o600)
    for (const list of ['whitelist', 'blacklist', 'autowhitelist']) assert.ok((await stat(join(shipped, 'settings', `${list}.txt`))).isFile(), list)
  })

  test('two agents of the packaged runtime sync a change over 127.0.0.1 and stop cleanly', async () => {
    const wrapper = join(root, 'usr', 'bin', 'spamsync')
    const keyFile = join(work, 'cluster.key')
    await run(wrapper, ['keygen', '--out', keyFile])
    for (const name of ['a', 'b']) {
      const dir = join(work, 'agents', name)
      await mkdir(join(dir, 'settings'), { recursive: true })
      agents.push(new PackagedAgent(wrapper, dir, await freePort(), await freePort(), keyFile))
    }
    const [a, b] = agents
    await a.start()
    await b.start([a.multiaddr])
    // The agent really is the unpacked runtime.
    const pid = a.proc?.pid
    assert.equal(execFileSync('readlink', [`/proc/${pid}/exe`], { encoding: 'utf8' }).trim(), join(root, 'usr', 'lib', 'spamsync', 'bin', 'node'))

    await a.writeList('blacklist', 'spam.example.com\n')
    await waitFor('the blacklist entry on b', async () => (await b.keys('blacklist')).includes('spam.example.com'))
    assert.equal(await b.stop(), 0)
    assert.equal(await a.stop(), 0)
  })
})
