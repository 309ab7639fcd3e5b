/**
 * The status page's buttons in a real browser (Debian's chromium) on a live 2-node cluster:
 * with the control token typed in, "Sync now" syncs and "Roll back to this version" (after a
 * confirmation) rolls the lists back; a page of another origin (another 127.0.0.1 port) in the
 * same browser cannot press them: its form posts, no-cors fetches, image loads and preflighted
 * fetches are refused and change nothing, and it cannot read the agent. A screenshot of the
 * page is left in dist/test-artifacts/ for the record.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { join } from 'node:path'
import type { BrowserContext, Page, Response } from 'playwright-core'
import { Cluster, REPO, waitFor, type AgentProcess } from '../helpers/agents.js'
import { launchChromium, NO_CHROMIUM, pageProblems, tableRows } from '../helpers/browser.js'

/** Where the screenshot stays after the run (dist/ is build output). */
const SCREENSHOT = join(REPO, 'dist', 'test-artifacts', 'status-page.png')

interface Kept { version: { term: number, seq: number }, origin: string, counts: Record<string, number> }

async function history (agent: AgentProcess): Promise<Kept[]> {
  return await (await fetch(`http://127.0.0.1:${agent.httpPort}/history`)).json() as Kept[]
}

const v = (k: Kept): string => `${k.version.term}.${k.version.seq}`

/** The newest kept version once its blacklist holds `count` entries. */
async function versionWith (master: AgentProcess, count: number): Promise<string> {
  return await waitFor(`a version with ${count} blacklist entries`, async () => {
    const [newest] = await history(master)
    return newest?.counts.blacklist === count ? v(newest) : null
  })
}

/** A page of another origin that tries every way a cross-site page has to press the buttons. */
function hostilePage (agent: string, version: string): string {
  return `<!doctype html><title>elsewhere</title>
<iframe name="a"></iframe><iframe name="b"></iframe>
<form id="sync" method="POST" action="${agent}/sync" target="a"></form>
<form id="rollback" method="POST" action="${agent}/rollback?version=${version}" target="b"><input name="version" value="${version}"></form>
<script>
window.results = {};
// After load, so that the frames the forms post into are there and no navigation is cut short.
window.addEventListener('load', () => {
const settle = (name) => [() => { results[name] = 'answered' }, (e) => { results[name] = 'blocked: ' + e.message }];
document.getElementById('sync').submit();
document.getElementById('rollback').submit();
fetch('${agent}/rollback?version=${version}', { method: 'POST', mode: 'no-cors' }).then(...settle('noCors'));
fetch('${agent}/sync', { method: 'POST', headers: { authorization: 'Bearer ' + 'f'.repeat(64) } }).then(...settle('preflighted'));
fetch('${agent}/').then((r) => r.text()).then(...settle('readPage'));
fetch('${agent}/status').then((r) => r.json()).then(...settle('readStatus'));
new Image().src = '${agent}/sync';
});
</script>`
}

/** Whether the page's history shows `version` with the node cell `node`. */
async function historyRow (page: Page, version: string): Promise<string[] | undefined> {
  return (await tableRows(page, 'history')).find(r => r[0] === version)
}

/** Rolls the lists back to `first` with the page's buttons (it asks first) and returns the version the master made. */
async function rollBackOnPage (page: Page, master: AgentProcess, first: string): Promise<Kept> {
  const row = page.locator('#history tr', { has: page.locator('td:first-child', { hasText: new RegExp(`^${first.replace('.', '\\.')}$`) }) })
  await row.locator('button.rollback').click()
  assert.match(await row.locator('td').last().textContent() ?? '', new RegExp(`^showRoll the lists back to ${first.replace('.', '\\.')}\\?`))
  assert.deepEqual(await master.keys('blacklist'), ['first.example.com', 'second.example.com'], 'nothing rolled back before the confirmation')
  await row.locator('button.confirm-rollback').click()
  await waitFor('the page to report the roll back', async () => (await page.textContent('#history-note'))?.startsWith(`rolled back to ${first}: new central version`))
  await waitFor('the master\'s list rolled back', async () => (await master.keys('blacklist')).join() === 'first.example.com')
  const [rolledBack] = await history(master)
  assert.equal(rolledBack.origin, `rollback of ${first}`)
  await waitFor('the new version on the page', async () => (await historyRow(page, v(rolledBack)))?.[2] === `rollback of ${first}`)
  return rolledBack
}

/**
 * Opens a page of another origin (a server of the test on another 127.0.0.1 port) in `context`,
 * waits until every attempt it makes on `agent` has settled, and returns what the page saw and
 * the agent's answer to its form post of /sync.
 */
async function attackFromElsewhere (t: TestContext, context: BrowserContext, agent: string, second: string): Promise<{ results: Record<string, string>, refusal: Promise<Response> }> {
  const elsewhere = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(hostilePage(agent, second))
  })
  await new Promise<void>(resolve => elsewhere.listen(0, '127.0.0.1', resolve))
  t.after(async () => { elsewhere.closeAllConnections(); await new Promise(resolve => elsewhere.close(resolve)) })
  const port = (elsewhere.address() as { port: number }).port
  const attacker = await context.newPage()
  const answers: string[] = []
  attacker.on('response', (r) => { if (r.url().startsWith(agent)) answers.push(`${r.request().method()} ${new URL(r.url()).pathname} ${r.status()}`) })
  // The image's answer (JSON) is cut by the browser's own guard (ORB) after it arrived.
  attacker.on('requestfailed', (r) => { if (r.url().startsWith(agent)) answers.push(`${r.method()} ${new URL(r.url()).pathname} failed`) })
  const refusal = attacker.waitForResponse(r => r.url() === `${agent}/sync` && r.request().method() === 'POST' && r.request().frame() !== attacker.mainFrame())
  await attacker.goto(`http://127.0.0.1:${port}/`)

  const results = await waitFor('every attempt of the other origin to settle', async () => {
    const r: Record<string, string> = await attacker.evaluate('window.results')
    const refused = answers.includes('POST /sync 403') && answers.filter(a => a === 'POST /rollback 403').length === 2
    const image = answers.includes('GET /sync 404') || answers.includes('GET /sync failed')
    return Object.keys(r).length === 4 && refused && image ? r : null
  })
  return { results, refusal }
}

test('the page syncs and rolls back with the control token; a page of another origin cannot press its buttons', {
  timeout: 180_000,
  skip: NO_CHROMIUM
}, async (t) => {
  const cluster = await Cluster.create()
  t.after(async () => { await cluster.cleanup() })
  await cluster.startAll(2, i => ['--name', `mx${i + 1}`])
  const master = await cluster.waitForOneMaster()
  const agent = `http://127.0.0.1:${master.httpPort}`
  const token = (await readFile(join(master.dataDir, 'http.token'), 'utf8')).trim()
  for (const path of ['/', '/status', '/history', '/metrics']) {
    assert.equal((await (await fetch(agent + path)).text()).includes(token), false, `${path} never holds the token`)
  }

  await master.writeList('blacklist', 'first.example.com\n')
  const first = await versionWith(master, 1)
  await master.writeList('blacklist', 'first.example.com\nsecond.example.com\n')
  const second = await versionWith(master, 2)

  const browser = await launchChromium(t)
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } })
  const page = await context.newPage()
  const problems = pageProblems(page)
  await page.goto(`${agent}/`)
  await waitFor('the versions on the page', async () => (await historyRow(page, second))?.[5] === 'showcurrent')
  assert.equal(await page.isDisabled('#sync-now'), true, 'no buttons before the token')

  await page.fill('#token', token)
  await page.click('#unlock')
  await page.waitForSelector('#unlocked', { state: 'visible' })
  assert.equal(await page.evaluate('sessionStorage.getItem("spamsync-control-token")'), token)

  await page.click('#sync-now')
  await waitFor('the page to report the sync', async () => /^synced in \d+ ms at .* UTC, applied version \d+\.\d+$/.test(await page.textContent('#sync-note') ?? ''))

  // Roll back to the first version: the page asks, then the master makes a new version with its lists.
  const rolledBack = await rollBackOnPage(page, master, first)

  await mkdir(join(REPO, 'dist', 'test-artifacts'), { recursive: true })
  await page.screenshot({ path: SCREENSHOT, fullPage: true })
  t.diagnostic(`screenshot: ${SCREENSHOT}`)
  console.log(`screenshot of the status page: ${SCREENSHOT}`)
  assert.deepEqual(problems, [])

  // Another origin: a server of the test on another 127.0.0.1 port, opened in the same browser
  // while the operator's tab holds the token.
  const { results, refusal } = await attackFromElsewhere(t, context, agent, second)
  assert.match(results.preflighted, /^blocked/, 'a request with the token header needs a preflight the agent refuses')
  assert.match(results.readPage, /^blocked/, 'the agent cannot be read from another origin')
  assert.match(results.readStatus, /^blocked/)
  assert.equal(results.noCors, 'answered', 'the no-cors post reached the agent (and was refused)')
  const body = JSON.parse(await (await refusal).text())
  assert.equal(body.error, 'CrossSiteRequestError')
  assert.match(body.message, /^POST \/sync refused: the browser marks it Sec-Fetch-Site "same-site"/)

  // Refused, so nothing changed: the same newest version, the same list.
  assert.equal(v((await history(master))[0]), v(rolledBack))
  assert.deepEqual(await master.keys('blacklist'), ['first.example.com'])
})
