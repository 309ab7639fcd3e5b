/** The local benchmark's measures: the list and its one-line edit, scan and rescan, export, import, CLI start-up. */
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { LIST_DATASETS, type ListDataset } from '../../src/constants.js'
import type { Entry } from '../../src/crdt/lww-set.js'
import { writeFileAtomic } from '../../src/settings/atomic-write.js'
import { parseListFile } from '../../src/settings/list-file.js'
import { buildSettingsArchive, readSettingsArchive } from '../../src/sync/settings-archive.js'
import { type NodeDirs, REPS, checkBlacklist, cpuNow, fail, loadDomains, makeNode, open, timed, timedCli } from './harness.js'

/** The domain list as blacklist.txt, and the same list with one line replaced. */
export interface ListFixture {
  domains: string[]
  list: string
  keys: string[]
  invalidLines: number
  editedList: string
  editedKeys: Set<string>
  oldKey: string
  newKey: string
}

/** Loads the list and checks it holds what the measures assume. */
export async function listFixture (): Promise<ListFixture> {
  const domains = await loadDomains()
  const list = domains.join('\n') + '\n'
  // What the replica should hold: the list's keys as the list file parser normalises them.
  // A few domains are listed twice, once in Unicode and once in punycode: they normalise to one
  // key, so the second line is a reported duplicate (an invalid line), not an entry.
  const parsedList = parseListFile(list, 'blacklist.txt')
  const invalidLines = parsedList.invalid.length
  const badOther = parsedList.invalid.filter(i => !i.reason.startsWith('duplicate of line'))
  if (badOther.length > 0) fail(`the domain list has ${badOther.length} invalid lines, first: ${JSON.stringify(badOther[0])}`)
  const keys = [...parsedList.entries.keys()]
  // The edited line: one domain in the middle of the file, replaced by one that is not in it.
  const editLine = domains.length >> 1
  const edited = parsedList.lines.at(editLine)
  if (edited?.kind !== 'entry' || edited.key === undefined) fail(`line ${editLine + 1} of the list is not an entry`)
  const oldKey = edited.key
  const newKey = 'spamsync-bench-replacement.example'
  if (parsedList.entries.has(newKey)) fail(`${newKey} is already in the list`)
  const editedDomains = [...domains]
  editedDomains[editLine] = newKey
  const editedList = editedDomains.join('\n') + '\n'
  const editedKeys = new Set(keys)
  editedKeys.delete(oldKey)
  editedKeys.add(newKey)
  return { domains, list, keys, invalidLines, editedList, editedKeys, oldKey, newKey }
}

/** Every sample of every measure, and the CPU times of those that have them. */
export function newSamples (): Samples {
  const samples = {
    firstScan: [] as number[],
    rescan: [] as number[],
    exportCli: [] as number[],
    exportInProcess: [] as number[],
    exportScan: [] as number[],
    exportBuild: [] as number[],
    exportWrite: [] as number[],
    importCli: [] as number[],
    importInProcess: [] as number[],
    importRead: [] as number[],
    importMerge: [] as number[],
    importWrite: [] as number[],
    openFilledStore: [] as number[],
    cliStartup: [] as number[]
  }
  const cpu: Partial<Record<SampleName, number[]>> = {}
  const addCpu = (name: SampleName, ms: number | undefined): void => {
    if (ms !== undefined) (cpu[name] ??= []).push(ms)
  }
  return { samples, cpu, addCpu }
}

/** The measures' names. */
export type SampleName = 'firstScan' | 'rescan' | 'exportCli' | 'exportInProcess' | 'exportScan' | 'exportBuild' | 'exportWrite' |
  'importCli' | 'importInProcess' | 'importRead' | 'importMerge' | 'importWrite' | 'openFilledStore' | 'cliStartup'

/** The samples of a run, and how a measure adds its CPU time. */
export interface Samples {
  samples: Record<SampleName, number[]>
  cpu: Partial<Record<SampleName, number[]>>
  addCpu: (name: SampleName, ms: number | undefined) => void
}

/** First scan and rescan after a one-line edit; returns the first node, kept for the export. */
export async function scanAndRescan (root: string, f: ListFixture, { samples, addCpu }: Samples): Promise<NodeDirs> {
  const { list, keys, invalidLines, editedList, newKey, oldKey } = f
  // First scan and rescan: a fresh node each repetition.
  let source: NodeDirs | undefined
  for (let rep = 0; rep < REPS; rep++) {
    const dirs = await makeNode(root, `scan-${rep}`, list)
    const state = await open(dirs)
    try {
      const first = await timed(() => state.folder.scan())
      samples.firstScan.push(first.ms)
      addCpu('firstScan', first.cpuMs)
      const firstChanges = first.value.changed.get('blacklist')?.length ?? 0
      if (firstChanges !== keys.length || first.value.changed.size !== 1) {
        fail(`first scan reported ${firstChanges} blacklist changes in ${first.value.changed.size} datasets, expected ${keys.length} in 1`)
      }
      const firstInvalid = state.folder.invalid.get('blacklist')?.invalidCount ?? 0
      if (firstInvalid !== invalidLines) fail(`first scan reported ${firstInvalid} invalid lines, expected ${invalidLines}`)

      await writeFile(join(dirs.settingsDir, 'blacklist.txt'), editedList)
      const rescan = await timed(() => state.folder.scan())
      samples.rescan.push(rescan.ms)
      addCpu('rescan', rescan.cpuMs)
      const changes = rescan.value.changed.get('blacklist') ?? []
      const added = changes.filter(e => e.present && e.key === newKey)
      const removed = changes.filter(e => !e.present && e.key === oldKey)
      if (rescan.value.changed.size !== 1 || changes.length !== 2 || added.length !== 1 || removed.length !== 1) {
        fail(`rescan after a one-line edit reported ${JSON.stringify(changes.map(e => ({ key: e.key, present: e.present })).slice(0, 10))} ` +
          `(${changes.length} blacklist changes in ${rescan.value.changed.size} datasets); expected exactly 2: ${newKey} new, ${oldKey} tombstone`)
      }
    } finally {
      await state.close()
    }
    // Later repetitions' folders are not needed: keep the disk small.
    if (rep === 0) source = dirs
    else await rm(join(root, `scan-${rep}`), { recursive: true, force: true })
  }
  if (source === undefined) fail('no source node')
  return source
}

/** Export of the scanned node, by the CLI and in process; the CLI's archive is checked and kept. */
export async function exportArchive (root: string, source: NodeDirs, f: ListFixture, { samples, addCpu }: Samples): Promise<{ zipPath: string, archiveBytes: number }> {
  const { keys } = f
  // Export: the first node above (scanned, then edited and rescanned), its folder unchanged.
  const zipPath = join(root, 'export.zip')
  for (let rep = 0; rep < REPS; rep++) {
    const cli = await timedCli(['export', '--data-dir', source.dataDir, '--settings-dir', source.settingsDir, zipPath])
    samples.exportCli.push(cli.ms)
    addCpu('exportCli', cli.cpuMs)
    if (!cli.value.startsWith(`exported ${zipPath}`)) fail(`unexpected export output: ${cli.value}`)
  }
  let archiveBytes = 0
  const inProcessZip = join(root, 'export-in-process.zip')
  for (let rep = 0; rep < REPS; rep++) {
    const opened = await timed(() => open(source))
    samples.openFilledStore.push(opened.ms)
    const state = opened.value
    try {
      const c0 = cpuNow()
      const t0 = performance.now()
      const scan = await state.folder.scan()
      const t1 = performance.now()
      if (scan.changed.size !== 0) fail(`scan of an unchanged folder reported changes in ${[...scan.changed.keys()].join(', ')}`)
      const lists = new Map<ListDataset, Entry[]>()
      for (const ds of LIST_DATASETS) lists.set(ds, [...state.replica.entries(ds)])
      const zip = buildSettingsArchive({ kind: 'full', origin: state.identity.nodeId, base: null, version: null }, lists)
      const t2 = performance.now()
      await writeFileAtomic(inProcessZip, zip)
      const t3 = performance.now()
      samples.exportScan.push(t1 - t0)
      samples.exportBuild.push(t2 - t1)
      samples.exportWrite.push(t3 - t2)
      samples.exportInProcess.push(t3 - t0)
      addCpu('exportInProcess', cpuNow() - c0)
      archiveBytes = zip.byteLength
    } finally {
      await state.close()
    }
  }
  const cliZip = await readFile(zipPath)
  const cliArchive = readSettingsArchive(cliZip)
  const exported = cliArchive.lists.get('blacklist') ?? []
  if (exported.length !== keys.length + 1 || exported.filter(e => e.present).length !== keys.length) {
    fail(`the exported archive has ${exported.length} blacklist entries (${exported.filter(e => e.present).length} present), ` +
      `expected ${keys.length + 1} (${keys.length} present, 1 tombstone)`)
  }
  return { zipPath, archiveBytes }
}

/** Import of the CLI's archive into a fresh node by the CLI. */
export async function importWithCli (root: string, zipPath: string, f: ListFixture, { samples, addCpu }: Samples): Promise<void> {
  const { keys, editedKeys } = f
  // A fresh node: new data folder, empty settings folder.
  for (let rep = 0; rep < REPS; rep++) {
    const dirs = await makeNode(root, `import-cli-${rep}`)
    const cli = await timedCli(['import', '--data-dir', dirs.dataDir, '--settings-dir', dirs.settingsDir, zipPath])
    samples.importCli.push(cli.ms)
    addCpu('importCli', cli.cpuMs)
    if (!cli.value.includes(`blacklist ${keys.length + 1} changed of ${keys.length + 1}`)) fail(`unexpected import output: ${cli.value}`)
    if (rep === 0) await checkBlacklist(dirs.settingsDir, editedKeys, 'CLI import')
    await rm(join(root, `import-cli-${rep}`), { recursive: true, force: true })
  }
}

/** The same import in process: read, merge and write timed apart. */
export async function importInProcess (root: string, zipPath: string, f: ListFixture, { samples, addCpu }: Samples): Promise<void> {
  const { keys, editedKeys } = f
  for (let rep = 0; rep < REPS; rep++) {
    const dirs = await makeNode(root, `import-${rep}`)
    const state = await open(dirs)
    try {
      const c0 = cpuNow()
      const t0 = performance.now()
      const zip = await readFile(zipPath)
      const archive = readSettingsArchive(zip)
      const t1 = performance.now()
      await state.folder.scan()
      let changedCount = 0
      let merge = 0
      let write = 0
      for (const [dataset, entries] of archive.lists) {
        const m0 = performance.now()
        const changed = await state.replica.merge(dataset, entries, { synced: false })
        const m1 = performance.now()
        if (changed.length > 0) await state.folder.write(dataset)
        merge += m1 - m0
        write += performance.now() - m1
        changedCount += changed.length
      }
      const t2 = performance.now()
      samples.importRead.push(t1 - t0)
      samples.importMerge.push(merge)
      samples.importWrite.push(write)
      samples.importInProcess.push(t2 - t0)
      addCpu('importInProcess', cpuNow() - c0)
      if (changedCount !== keys.length + 1) fail(`in-process import changed ${changedCount} entries, expected ${keys.length + 1}`)
    } finally {
      await state.close()
    }
    if (rep === 0) await checkBlacklist(dirs.settingsDir, editedKeys, 'in-process import')
    await rm(join(root, `import-${rep}`), { recursive: true, force: true })
  }
}

/** What any CLI run pays before its command starts (process start + module loading). */
export async function cliStartup ({ samples, addCpu }: Samples): Promise<void> {
  for (let rep = 0; rep < REPS; rep++) {
    const cli = await timedCli(['--version'])
    samples.cliStartup.push(cli.ms)
    addCpu('cliStartup', cli.cpuMs)
  }
}
