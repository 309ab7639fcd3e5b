import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLocalState } from '../../../src/local-state.js'
import { defaultConfig } from '../../../src/config.js'
import { Downloader } from '../../../src/sync/downloader.js'
import { SerialQueue } from '../../../src/sync/serial-queue.js'
import { SettingsWriter } from '../../../src/sync/settings-writer.js'
import { ArchiveServer } from '../../../src/sync/archive-server.js'
import { VersionHistory } from '../../../src/sync/version-history.js'
import { buildSettingsArchive } from '../../../src/sync/settings-archive.js'
import { Status } from '../../../src/pb/spamsync.js'
import type { Version } from '../../../src/version.js'
import type { FetchAnswer } from '../../../src/sync/fan-out.js'

const WALL_MS = 1_700_000_000_000
const TERM = 2

/** One fetch the master received, answered when the test says so. */
interface Asked {
  since: Version
  answer: (a: FetchAnswer) => void
}

/** The master's archive of version `seq` of TERM (full: no base needed), one whitelist entry per key. */
function central (seq: number, keys: string[], version: Version | null = { term: TERM, seq }): Uint8Array {
  const entries = keys.map((key, i) => ({ key, value: '', present: true, stamp: { wallMs: WALL_MS, counter: seq * 100 + i, nodeId: 'master' } }))
  return buildSettingsArchive({ kind: 'full', origin: 'master', base: null, version }, new Map([['whitelist' as const, entries]]))
}

const ok = (seq: number, zip: Uint8Array): FetchAnswer => ({ status: Status.OK, reason: '', version: { term: TERM, seq }, full: false, sources: [], zip })

/** A slave's downloader on a real state in a temp dir, and a master the test answers by hand. */
async function setup (t: TestContext): Promise<{ downloader: Downloader, asked: Asked[], nextAsk: () => Promise<Asked>, reported: string[], settingsDir: string, filesChanged: string[][], appliedCalls: Array<{ version: Version, records: number, origin: string }> }> {
  const root = await mkdtemp(join(tmpdir(), 'spamsync-downloader-'))
  const settingsDir = join(root, 'settings')
  const state = await openLocalState({ dataDir: join(root, 'data'), settingsDir, maxSkewMs: defaultConfig().maxSkewMs })
  t.after(async () => {
    await state.close()
    await rm(root, { recursive: true, force: true })
  })
  const reported: string[] = []
  const report = (what: string): void => { reported.push(what) }
  const asked: Asked[] = []
  let waiter: ((a: Asked) => void) | null = null
  const filesChanged: string[][] = []
  const appliedCalls: Array<{ version: Version, records: number, origin: string }> = []
  const versions = new VersionHistory({ store: state.store, replica: state.replica, historyVersions: 5, now: () => WALL_MS })
  const downloader = new Downloader({
    nodeId: 'slave',
    store: state.store,
    replica: state.replica,
    roles: () => ({ role: 'slave', masterId: 'master', term: TERM }),
    network: {
      fetch: async (_peer, since) => await new Promise<FetchAnswer>(resolve => {
        const a: Asked = { since, answer: resolve }
        asked.push(a)
        waiter?.(a)
        waiter = null
      }),
      holders: () => [],
      awaited: () => false,
      announce: () => {}
    },
    fanOut: false,
    queue: new SerialQueue(),
    writer: new SettingsWriter({ folder: state.folder, report, editsFoundByWrite: () => {} }),
    server: new ArchiveServer({ nodeId: 'slave', replica: state.replica, versions, isMaster: () => false, fanOut: false, report }),
    filesChanged: async (datasets) => { filesChanged.push(datasets) },
    versions: { received: async (version, records, origin) => { appliedCalls.push({ version, records: records.length, origin }) } },
    report,
    now: () => WALL_MS
  })
  await downloader.load()
  const nextAsk = async (): Promise<Asked> => await new Promise(resolve => { waiter = resolve })
  return { downloader, asked, nextAsk, reported, settingsDir, filesChanged, appliedCalls }
}

describe('Downloader', () => {
  test('an announced newer version is fetched, applied, its file written and the version stored', async (t) => {
    const { downloader, nextAsk, settingsDir, filesChanged, appliedCalls } = await setup(t)
    const ask = nextAsk()
    downloader.announce({ term: TERM, seq: 1 })
    const a = await ask
    assert.deepEqual(a.since, { term: 0, seq: 0 })
    a.answer(ok(1, central(1, ['friend@example.com'])))
    await downloader.settled()
    assert.deepEqual(downloader.appliedVersion, { term: TERM, seq: 1 })
    assert.match(await readFile(join(settingsDir, 'whitelist.txt'), 'utf8'), /friend@example\.com/)
    assert.deepEqual(filesChanged, [['whitelist']])
    assert.equal(downloader.lastDownload?.peer, 'master')
    // The version it made applied goes to the history, with the records the answer carried (none here).
    assert.deepEqual(appliedCalls.map(c => [c.version, c.records]), [[{ term: TERM, seq: 1 }, 0]])
  })

  test('a version past this node\'s term is ignored: no fetch', async (t) => {
    const { downloader, asked } = await setup(t)
    downloader.announce({ term: TERM + 1, seq: 1 })
    await downloader.settled()
    assert.equal(asked.length, 0)
    assert.equal(downloader.behind, false)
  })

  test('a version announced while a fetch runs is fetched after it', async (t) => {
    const { downloader, nextAsk } = await setup(t)
    let ask = nextAsk()
    downloader.announce({ term: TERM, seq: 1 })
    const first = await ask
    downloader.announce({ term: TERM, seq: 2 })
    ask = nextAsk()
    first.answer(ok(1, central(1, ['a@example.com'])))
    const second = await ask
    assert.deepEqual(second.since, { term: TERM, seq: 1 })
    second.answer(ok(2, central(2, ['b@example.com'])))
    await downloader.settled()
    assert.deepEqual(downloader.appliedVersion, { term: TERM, seq: 2 })
    assert.equal(downloader.current.kind, 'idle')
  })

  test('a refused download is reported, and retry() fetches again', async (t) => {
    const { downloader, nextAsk, reported } = await setup(t)
    let ask = nextAsk()
    downloader.announce({ term: TERM, seq: 1 })
    ;(await ask).answer({ status: Status.REFUSED, reason: 'not master', sources: [] })
    await downloader.settled()
    assert.deepEqual(reported, ['download'])
    assert.equal(downloader.behind, true)
    ask = nextAsk()
    downloader.retry()
    ;(await ask).answer(ok(1, central(1, ['a@example.com'])))
    await downloader.settled()
    assert.deepEqual(downloader.appliedVersion, { term: TERM, seq: 1 })
  })

  test('an archive without a central version is refused and applies nothing', async (t) => {
    const { downloader, nextAsk, reported } = await setup(t)
    const ask = nextAsk()
    downloader.announce({ term: TERM, seq: 1 })
    ;(await ask).answer(ok(1, central(1, ['a@example.com'], null)))
    await downloader.settled()
    assert.deepEqual(reported, ['download'])
    assert.deepEqual(downloader.appliedVersion, { term: 0, seq: 0 })
  })
})
