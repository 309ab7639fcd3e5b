/** Debian's chromium, driven by playwright-core, for the status page's e2e tests. */
import { existsSync } from 'node:fs'
import { chromium, type Browser, type Page } from 'playwright-core'

/** Debian's chromium (apt-get install chromium). */
export const CHROMIUM = '/usr/bin/chromium'

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync']

/** The test's skip reason when chromium is not installed, else false. */
export const NO_CHROMIUM: string | false = existsSync(CHROMIUM) ? false : 'chromium not installed (apt-get install chromium)'

/** A headless chromium, closed when the test ends. */
export async function launchChromium (t: { after: (fn: () => Promise<void>) => void }): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
  t.after(async () => { await browser.close() })
  return browser
}

/** Collects a page's script errors and CSP refusals (a page that works has none). */
export function pageProblems (page: Page): string[] {
  const problems: string[] = []
  page.on('pageerror', (err) => { problems.push(err.message) })
  page.on('console', (msg) => { if (msg.text().includes('Content Security Policy')) problems.push(msg.text()) })
  return problems
}

/** The cells of a table body's rows, read in one go (the page re-renders every 2 s). */
export async function tableRows (page: Page, tbodyId: string): Promise<string[][]> {
  return await page.evaluate(`[...document.querySelectorAll('#${tbodyId} tr')].map(r => [...r.cells].map(c => c.textContent))`)
}
