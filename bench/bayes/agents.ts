/** Three in-process agents of the Bayes benchmark: start, roles, bytes, and the wait until every bayes.txt is the expected file. */
import { mkdir, readFile, rename, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Agent } from '../../src/agent.js'
import { defaultConfig } from '../../src/config.js'
import { generateClusterKey, writeClusterKey } from '../../src/net/cluster-key.js'
import type { BayesDb } from '../../src/crdt/bayes-counters.js'
import { parseSaBackup } from '../../src/settings/sa-backup.js'
import { compareVersions, formatVersion, type Version } from '../../src/version.js'
import { sha256 } from './data.js'
import { round, sleep } from './measure.js'
import { NODES, POLL_MS } from './options.js'

interface NodeBytes { sent: number, received: number }

export function bytesOf (a: Agent): NodeBytes {
  const s = a.status()
  return { sent: s.bytesSent, received: s.bytesReceived }
}

export function roleOf (a: Agent): string {
  return a.election.role
}

export interface ExpectedFile { sha256: string, bytes: number, stats: string }

/** Aggregates of a DB, to tell how a file that is not the expected one differs (double counts, lost seen ids...). */
function statsOf (db: BayesDb): string {
  let spam = 0
  let ham = 0
  let maxAtime = 0
  let atimeSum = 0
  const t = db.tokens
  for (let i = 0; i < t.keys.length; i++) {
    spam += t.spam[i]
    ham += t.ham[i]
    if (t.atime[i] > maxAtime) maxAtime = t.atime[i]
    atimeSum = (atimeSum + t.atime[i]) % 1_000_000_007
  }
  let s = 0
  for (const f of db.seen.values()) if (f === 's') s++
  return `tokens ${db.tokens.keys.length} num_spam ${db.numSpam} num_nonspam ${db.numHam} sum(spam) ${spam} sum(ham) ${ham} max(atime) ${maxAtime} atimeHash ${atimeSum} seen ${db.seen.size} (${s} s)`
}

export function expectedOf (db: BayesDb, text: Uint8Array): ExpectedFile {
  return { sha256: sha256(text), bytes: text.byteLength, stats: statsOf(db) }
}

/** Where two backup texts differ: line counts and the first few differing lines. */
function firstDifferences (want: string, got: string, max = 5): string {
  const a = want.split('\n')
  const b = got.split('\n')
  const out: string[] = [`${a.length} vs ${b.length} lines`]
  const bSet = new Set(b)
  const aSet = new Set(a)
  const missing = a.filter(l => !bSet.has(l))
  const extra = b.filter(l => !aSet.has(l))
  out.push(`${missing.length} expected lines missing, ${extra.length} unexpected lines`)
  for (let k = 0; k < Math.min(max, missing.length); k++) out.push(`want ${JSON.stringify(missing[k])}`)
  for (let k = 0; k < Math.min(max, extra.length); k++) out.push(`got ${JSON.stringify(extra[k])}`)
  return out.join('; ')
}

/** Polls every node's bayes.txt until each equals `want` (size first, then sha256); records a timeline. */
export async function waitConverged (agents: Agent[], files: string[], want: ExpectedFile, t0: number, timeoutMs: number, skip: Set<number> = new Set(), wantText?: Uint8Array):
Promise<{ converged: boolean, ms: number, perNodeMs: Array<number | null>, timeline: string[], last: string[] }> {
  const perNodeMs: Array<number | null> = agents.map((_, i) => skip.has(i) ? 0 : null)
  const lastHashed: Array<number> = agents.map(() => -1)
  const sigs = agents.map(() => '')
  const timeline: string[] = []
  const deadline = t0 + timeoutMs
  for (;;) {
    const now = performance.now()
    for (let i = 0; i < agents.length; i++) {
      const a = agents[i]
      let size = -1
      let mtime = -1
      try {
        const st = await stat(files[i])
        size = st.size
        mtime = st.mtimeMs
      } catch {}
      const e = a.engine
      const sig = `${roleOf(a)} v${formatVersion(e.version)} applied ${formatVersion(e.appliedVersion)} tokens ${e.bayesTokens} up ${e.lastUpload === null ? '-' : `${e.lastUpload.kind}/${e.lastUpload.bytes}B`} down ${e.lastDownload === null ? '-' : `${e.lastDownload.kind}/${e.lastDownload.bytes}B@${e.lastDownload.version === undefined ? "?" : formatVersion(e.lastDownload.version)}`} errors ${e.errors.length} file ${size}B`
      if (sig !== sigs[i]) {
        sigs[i] = sig
        timeline.push(`${Math.round(now - t0)} ms n${i}: ${sig}`)
      }
      if (perNodeMs[i] === null && size === want.bytes && mtime !== lastHashed[i]) {
        lastHashed[i] = mtime
        const data = await readFile(files[i])
        if (sha256(data) === want.sha256) {
          perNodeMs[i] = performance.now() - t0
        } else {
          const got = statsOf(parseSaBackup(data, 'bayes.txt').db)
          timeline.push(`${Math.round(now - t0)} ms n${i}: file has the expected size but other content: got ${got}; want ${want.stats}`)
        }
      }
    }
    if (perNodeMs.every(x => x !== null)) {
      return { converged: true, ms: Math.max(...perNodeMs), perNodeMs, timeline, last: sigs }
    }
    if (performance.now() > deadline) {
      const last = [...sigs]
      if (wantText !== undefined) {
        for (let i = 0; i < agents.length; i++) if (perNodeMs[i] === null) last.push(`n${i} differs: ${firstDifferences(Buffer.from(wantText).toString('utf8'), await readFile(files[i], 'utf8').catch(() => ''))}`)
      }
      return { converged: false, ms: performance.now() - t0, perNodeMs, timeline, last }
    }
    await sleep(POLL_MS)
  }
}

export interface Cluster {
  root: string
  agents: Agent[]
  files: string[]
}

export async function startCluster (root: string, prefill: string[] | null, track: (a: Agent) => void): Promise<{ cluster: Cluster, startMs: number[] }> {
  const keyFile = join(root, 'cluster.key')
  await writeClusterKey(keyFile, generateClusterKey())
  const agents: Agent[] = []
  const files: string[] = []
  const startMs: number[] = []
  for (let i = 0; i < NODES; i++) {
    const settingsDir = join(root, `n${i}`, 'settings')
    await mkdir(settingsDir, { recursive: true })
    files.push(join(settingsDir, 'bayes.txt'))
    if (prefill !== null) await rename(prefill[i], files[i])
  }
  for (let i = 0; i < NODES; i++) {
    const t = performance.now()
    const a = await Agent.start({
      ...defaultConfig(),
      dataDir: join(root, `n${i}`, 'data'),
      settingsDir: join(root, `n${i}`, 'settings'),
      clusterKey: keyFile,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: i === 0 ? [] : agents[0].status().listen,
      mdns: false,
      httpPort: 0,
      logLevel: 'silent',
      bayesExportCommand: '',
      bayesImportCommand: '',
      bayesScanIntervalSeconds: 0
    })
    startMs.push(round(performance.now() - t, 0))
    agents.push(a)
    track(a)
  }
  return { cluster: { root, agents, files }, startMs }
}

export function oneMaster (agents: Agent[]): boolean {
  return agents.filter(a => a.election.role === 'master').length === 1 && agents.every(a => a.election.role !== 'candidate')
}

function masterOf (agents: Agent[]): Agent {
  return agents.find(a => a.election.role === 'master') as Agent
}

/** One master, every slave uploaded once and applied the master's version. */
export function settled (agents: Agent[]): boolean {
  if (!oneMaster(agents)) return false
  const v: Version = masterOf(agents).engine.version
  return agents.every(a => a.election.role === 'master' || (a.engine.lastUpload !== null && compareVersions(a.engine.appliedVersion, v) === 0))
}

export function clusterState (agents: Agent[]): string {
  return agents.map((a, i) => `n${i} ${roleOf(a)} term ${a.election.term} v${formatVersion(a.engine.version)} applied ${formatVersion(a.engine.appliedVersion)} up ${a.engine.lastUpload === null ? '-' : 'yes'} errors ${a.engine.errors.length}`).join('; ')
}
