/**
 * The status page of `GET /` in a real browser (Debian's chromium driven by playwright-core)
 * for a live 2-node cluster of agent processes: what the page shows, and that it follows a
 * change without being reloaded.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { chromium, type Page } from 'playwright-core'
import { Cluster, waitFor } from '../helpers/agents.js'

const CHROMIUM = '/usr/bin/chromium'

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync']

/** Column order of the peers table. */
const COL = { name: 0, id: 1, role: 2, agent: 3, applied: 4, compatible: 5 } as const

/** The cluster table: each row's health class, name cell and problems cell. */
async function clusterTable (page: Page): Promise<Array<{ health: string, name: string, problems: string }>> {
  return await page.evaluate("[...document.querySelectorAll('#cluster tr')].map(r => ({ health: r.cells[0].firstChild.className, name: r.cells[1].textContent, problems: r.cells[r.cells.length - 1].textContent }))")
}

/** The cells of the nodes table, read in one go (the page re-renders every 2 s). */
async function nodesTable (page: Page): Promise<string[][]> {
  return await page.evaluate("[...document.querySelectorAll('#nodes tr')].map(r => [...r.cells].map(c => c.textContent))")
}

test('the status page shows a live 2-node cluster and follows a change without a reload', {
  timeout: 120_000,
  skip: existsSync(CHROMIUM) ? false : 'chromium not installed (apt-get install chromium)'
}, async (t) => {
  const cluster = await Cluster.create()
  t.after(async () => { await cluster.cleanup() })
  const [a, b] = await cluster.startAll(2, i => ['--name', `mx${i + 1}`])
  await cluster.waitForOneMaster()

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
  t.after(async () => { await browser.close() })
  const page = await browser.newPage()
  const problems: string[] = []
  page.on('pageerror', (err) => { problems.push(err.message) })
  page.on('console', (msg) => { if (msg.text().includes('Content Security Policy')) problems.push(msg.text()) })
  await page.goto(`http://127.0.0.1:${a.httpPort}/`)

  // The peer's role comes with its beacons, so the first render may not show it yet.
  const rows = await waitFor('both nodes with their roles on the page', async () => {
    const rows = await nodesTable(page)
    const roles = rows.map(r => r[COL.role]).sort()
    return rows.length === 2 && roles[0] === 'master' && roles[1] === 'slave' ? rows : null
  })
  assert.equal(rows[0][COL.id], a.nodeId, 'this node first')
  assert.equal(rows[1][COL.id], b.nodeId)
  assert.deepEqual(rows.map(r => r[COL.name]), ['mx1', 'mx2'])
  const { agentVersion } = await a.status()
  for (const r of rows) {
    assert.equal(r[COL.agent], agentVersion)
    assert.match(r[COL.compatible], /^yes/)
  }

  // A reload would drop this marker.
  await page.evaluate('window.__notReloaded = true')
  const before = rows[0][COL.applied]
  await b.writeList('blacklist', 'status-page.example.com\n')
  const after = await waitFor('the applied version to change on node a', async () => {
    const v = (await a.status()).appliedVersion
    const shown = `${v.term as number}.${v.seq as number}`
    return shown !== before ? shown : null
  })
  await waitFor(`the page to show applied version ${after} for both nodes`, async () => {
    const rows = await nodesTable(page)
    return rows.length === 2 && rows.every(r => r[COL.applied] === after)
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
