/**
 * The status page of `GET /` in a real browser (Debian's chromium driven by playwright-core)
 * for a live 2-node cluster of agent processes: what the page shows, and that it follows a
 * change without being reloaded.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Page } from 'playwright-core'
import { Cluster, waitFor } from '../helpers/agents.js'
import { launchChromium, NO_CHROMIUM, pageProblems, tableRows } from '../helpers/browser.js'

/** Column order of the cluster and peers tables. */
const CLUSTER = { name: 1, role: 2, applied: 3, uptime: 8, agent: 9 } as const
const PEER = { name: 0, id: 1, role: 2, agent: 3, compatible: 5, clock: 6, lastSeen: 7 } as const

/** The cluster table: each row's health class, name cell and problems cell. */
async function clusterTable (page: Page): Promise<Array<{ health: string, name: string, problems: string }>> {
  return await page.evaluate("[...document.querySelectorAll('#cluster tr')].map(r => ({ health: r.cells[0].firstChild.className, name: r.cells[1].textContent, problems: r.cells[r.cells.length - 1].textContent }))")
}

test('the status page shows a live 2-node cluster and follows a change without a reload', {
  timeout: 120_000,
  skip: NO_CHROMIUM
}, async (t) => {
  const cluster = await Cluster.create()
  t.after(async () => { await cluster.cleanup() })
  const [a, b] = await cluster.startAll(2, i => ['--name', `mx${i + 1}`])
  await cluster.waitForOneMaster()

  const browser = await launchChromium(t)
  const page = await browser.newPage()
  const problems = pageProblems(page)
  await page.goto(`http://127.0.0.1:${a.httpPort}/`)

  // The peer's role comes with its beacons, so the first render may not show it yet.
  const rows = await waitFor('both nodes with their roles on the page', async () => {
    const rows = await tableRows(page, 'cluster')
    const roles = rows.map(r => r[CLUSTER.role]).sort()
    return rows.length === 2 && roles[0] === 'master' && roles[1] === 'slave' ? rows : null
  })
  assert.deepEqual(rows.map(r => r[CLUSTER.name]), ['mx1 (this node)', 'mx2'])
  const { agentVersion } = await a.status()
  for (const r of rows) assert.equal(r[CLUSTER.agent], agentVersion)
  const peers = await tableRows(page, 'nodes')
  assert.deepEqual(peers.map(r => [r[PEER.name], r[PEER.id], r[PEER.agent]]), [['mx2', b.nodeId, agentVersion]])
  assert.match(peers[0][PEER.compatible], /^yes/)
  assert.match(peers[0][PEER.lastSeen], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/)
  const self = Object.fromEntries((await tableRows(page, 'self')).map(([k, v]) => [k, v]))
  assert.equal(self['Node id'], a.nodeId)
  assert.match(self['Listen addresses'], new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/${a.port}/p2p/${a.nodeId}`))
  assert.match(self.Uptime, /^\d+ (s|min \d+ s) \(since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)$/)
  assert.match(self['Sync traffic'], /^received \d/)

  // A reload would drop this marker.
  await page.evaluate('window.__notReloaded = true')
  const before = rows[0][CLUSTER.applied]
  await b.writeList('blacklist', 'status-page.example.com\n')
  const after = await waitFor('the applied version to change on node a', async () => {
    const v = (await a.status()).appliedVersion
    const shown = `${v.term as number}.${v.seq as number}`
    return shown !== before ? shown : null
  })
  await waitFor(`the page to show applied version ${after} for both nodes`, async () => {
    const rows = await tableRows(page, 'cluster')
    return rows.length === 2 && rows.every(r => r[CLUSTER.applied] === after)
  })
  assert.equal(await page.evaluate('window.__notReloaded'), true)

  // The cluster on top: the summary, and a health colour per node; a stopped node turns red.
  await waitFor('the cluster in sync on the page', async () => await page.textContent('#cluster-summary') === '2 nodes, all in sync')
  assert.deepEqual(await clusterTable(page), [{ health: 'dot ok', name: 'mx1 (this node)', problems: '-' }, { health: 'dot ok', name: 'mx2', problems: '-' }])
  await b.stop()
  await waitFor('the stopped node red on the page', async () => await page.textContent('#cluster-summary') === '2 nodes: mx2 is down')
  // Down first; it may also be behind a version the master cut since.
  const down = (await clusterTable(page))[1]
  assert.deepEqual([down.health, down.name], ['dot down', 'mx2'])
  assert.match(down.problems, /^down(, |$)/)
  assert.equal(await page.getAttribute('#cluster-summary', 'class'), 'down')
  assert.deepEqual(problems, [])
})
