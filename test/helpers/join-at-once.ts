/**
 * The fan-out scenario, shared by test/scale/fan-out.test.ts and bench/fanout.ts: a master process
 * whose blacklist holds a large list, then N - 1 fresh slave processes started at once (all
 * bootstrapped to the master, mDNS off, 127.0.0.1), until every node holds the master's list at
 * its version. Reports the bytes the master sent answering fetches (counted by its fetch
 * service), the full archive's size, and whether every node ends with the same keys.
 */
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseListFile } from '../../src/settings/list-file.js'
import { waitFor, type AgentProcess, type Cluster } from './agents.js'

/** The 121,570 domains of the `disposable-email-domains` package. */
export async function loadDomains (): Promise<string[]> {
  const path = createRequire(import.meta.url).resolve('disposable-email-domains/index.json')
  const domains: unknown = JSON.parse(await readFile(path, 'utf8'))
  if (!Array.isArray(domains) || domains.length === 0 || !domains.every(d => typeof d === 'string')) {
    throw new Error(`${path} is not a non-empty JSON array of strings`)
  }
  return domains
}

/** What one run measured. */
export interface JoinResult {
  nodes: number
  fanOut: boolean
  /** Keys of the list (a few domains are listed twice, in Unicode and punycode: one key). */
  keys: number
  /** Size of the full archive the slaves applied. */
  archiveBytes: number
  /** Bytes the master sent answering fetches (fetch service count). */
  masterServedBytes: number
  /** All bytes the master sent on sync streams (fetches, and upload answers). */
  masterSentBytes: number
  /** masterServedBytes / archiveBytes. */
  masterArchives: number
  /** Bytes the slaves sent answering each other's fetches. */
  slavesServedBytes: number
  /** From starting the slaves until every node holds every key at the master's version. */
  allHaveMs: number
  /** Of allHaveMs, until the last slave's status answered (process start-up). */
  startedMs: number
  /** Per slave: who its last download came from (`master` or `slave`) and its kind. */
  downloads: Array<{ from: string, kind: string, bytes: number }>
  /** Every node's normalised keys are the master's. */
  identical: boolean
  /** Election terms the master went through after the slaves started: each new term makes every slave fetch a full archive again. */
  newTerms: number
  /** Errors the slaves reported (peers refused, fall-backs). */
  slaveErrors: string[]
}

/**
 * Starts an agent; AgentProcess.start gives up after 20 s, which a loaded machine can exceed:
 * a process that is still running is given `timeoutMs` in all.
 */
export async function startPatiently (a: AgentProcess, bootstrap: string[], timeoutMs = 120_000): Promise<void> {
  const t0 = performance.now()
  try {
    await a.start(bootstrap)
  } catch (err) {
    const proc = a.proc
    if (proc === null || proc.exitCode !== null || proc.signalCode !== null) throw err
    const status = await waitFor(`agent in ${a.dir} to answer (slow start)`, async () => {
      if (proc.exitCode !== null) throw new Error(`agent exited with ${proc.exitCode}: ${a.output}`)
      return await a.status()
    }, Math.max(1000, timeoutMs - (performance.now() - t0)))
    a.nodeId = status.nodeId
  }
}

/** One line per node (role, term, versions, entries, held archive, last errors), for a failure message. */
async function describe (agents: AgentProcess[]): Promise<string> {
  const lines = await Promise.all(agents.map(async (a, i) => {
    const s = await a.status().catch(() => null)
    if (s === null) return `  node${i + 1}: no answer`
    const v = (x: any): string => x === null || x === undefined ? '-' : `${x.term as number}.${x.seq as number}`
    return `  node${i + 1} ${String(s.nodeId).slice(-6)} ${s.role as string} term=${s.term as number} master=${String(s.masterId ?? '').slice(-6)} version=${v(s.version)} applied=${v(s.appliedVersion)} ` +
      `entries=${s.datasets.blacklist.entries as number} held=${v(s.fullArchive?.version)} served=${s.fetchBytesServed as number} errors=${JSON.stringify((s.errors as any[]).slice(-3).map(e => `${e.what as string}: ${String(e.message).slice(0, 80)}`))}`
  }))
  return lines.join('\n')
}

/** sha256 of a node's normalised blacklist keys. */
async function keyDigest (a: AgentProcess): Promise<string> {
  const text = await readFile(join(a.settingsDir, 'blacklist.txt'), 'utf8').catch(() => '')
  const keys = [...parseListFile(text, 'blacklist.txt').entries.keys()].sort()
  return createHash('sha256').update(keys.join('\n')).digest('hex')
}

/** Adds the first node with the whole list and waits until it is master holding all `keys`. */
async function startMaster (cluster: Cluster, flags: string[], list: string, keys: number): Promise<AgentProcess> {
  const master = await cluster.add(['--priority', '10', ...flags])
  await writeFile(join(master.settingsDir, 'blacklist.txt'), list)
  await startPatiently(master, [])
  await waitFor('the first node to be master with the whole list', async () => {
    const s = await master.status()
    return s.role === 'master' && s.datasets.blacklist.entries === keys
  }, 120_000, 250)
  return master
}

/** The master's status once its byte counters stop moving (they settle once the last answers are written out). */
async function settledStatus (master: AgentProcess): Promise<any> {
  let m: any
  for (let last = ''; ; await new Promise(resolve => setTimeout(resolve, 500))) {
    m = await master.status()
    const key = `${m.fetchBytesServed as number}/${m.bytesSent as number}`
    if (key === last) break
    last = key
  }
  return m
}

/** Runs the scenario in `cluster` (the caller cleans it up). */
export async function joinAtOnce (cluster: Cluster, opts: { nodes: number, fanOut: boolean, domains: string[], timeoutMs?: number, log?: (s: string) => void }): Promise<JoinResult> {
  const log = opts.log ?? (() => {})
  const flags = opts.fanOut ? [] : ['--no-fan-out']
  const list = opts.domains.join('\n') + '\n'
  const keys = parseListFile(list, 'blacklist.txt').entries.size
  const master = await startMaster(cluster, flags, list, keys)
  log(`master holds ${keys} keys`)

  const termBefore = (await master.status()).term as number
  const slaves: AgentProcess[] = []
  for (let i = 1; i < opts.nodes; i++) slaves.push(await cluster.add(flags))
  const t0 = performance.now()
  await Promise.all(slaves.map(async s => { await startPatiently(s, [master.multiaddr]) }))
  const startedMs = performance.now() - t0
  log(`${slaves.length} slaves answer after ${Math.round(startedMs)} ms`)
  const timeoutMs = opts.timeoutMs ?? 300_000
  try {
    await waitFor('every slave to hold the master\'s list at its version', async () => {
      const m = await master.status()
      const all = await Promise.all(slaves.map(async s => await s.status()))
      return all.every(s => s.masterId === m.nodeId && s.datasets.blacklist.entries === keys &&
        s.appliedVersion.term === m.version.term && s.appliedVersion.seq === m.version.seq)
    }, timeoutMs, 100)
  } catch (err: any) {
    throw new Error(`${String(err?.message ?? err)}\n${await describe([master, ...slaves])}`, { cause: err })
  }
  const allHaveMs = performance.now() - t0
  log(`all ${opts.nodes} nodes hold the list after ${Math.round(allHaveMs)} ms`)

  const m = await settledStatus(master)
  const all = await Promise.all(slaves.map(async s => await s.status()))
  const fullSizes = all.filter(s => s.lastDownload?.kind === 'full').map(s => s.lastDownload.bytes as number)
  const archiveBytes = m.fullArchive?.size ?? Math.max(0, ...fullSizes)
  const want = createHash('sha256').update([...parseListFile(list, 'blacklist.txt').entries.keys()].sort().join('\n')).digest('hex')
  const digests = await Promise.all([master, ...slaves].map(keyDigest))
  return {
    nodes: opts.nodes,
    fanOut: opts.fanOut,
    keys,
    archiveBytes,
    masterServedBytes: m.fetchBytesServed,
    masterSentBytes: m.bytesSent,
    masterArchives: archiveBytes === 0 ? 0 : Math.round(m.fetchBytesServed / archiveBytes * 100) / 100,
    slavesServedBytes: all.reduce((sum, s) => sum + (s.fetchBytesServed as number), 0),
    allHaveMs: Math.round(allHaveMs),
    startedMs: Math.round(startedMs),
    downloads: all.map(s => ({ from: s.lastDownload?.peer === m.nodeId ? 'master' : 'slave', kind: s.lastDownload?.kind ?? 'none', bytes: s.lastDownload?.bytes ?? 0 })),
    identical: digests.every(d => d === want),
    newTerms: (m.term as number) - termBefore,
    slaveErrors: all.flatMap(s => (s.errors as Array<{ what: string, message: string }>).map(e => `${e.what}: ${e.message}`))
  }
}
