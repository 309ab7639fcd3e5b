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

/** Column order of the nodes table. */
const COL = { id: 0, role: 1, agent: 2, applied: 3, compatible: 4 } as const

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
  const [a, b] = await cluster.startAll(2)
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
  assert.deepEqual(problems, [])
})
