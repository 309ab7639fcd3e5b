/**
 * SIGTERM to the receiving node while a large list is in flight: the process exits 0 in time,
 * its blacklist.txt is never a partial rendering, and after a restart it converges.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Cluster, REPO, waitFor, type AgentProcess } from '../helpers/agents.js'

const DOMAINS: string[] = JSON.parse(readFileSync(join(REPO, 'node_modules', 'disposable-email-domains', 'index.json'), 'utf8'))

/** The entry keys of a list file; fails on a line that is cut off (no final newline). */
async function completeKeys (a: AgentProcess): Promise<string[]> {
  const text = await a.readList('blacklist')
  assert.ok(text === '' || text.endsWith('\n'), `blacklist.txt ends mid-line (${text.length} bytes)`)
  return await a.keys('blacklist')
}

test('SIGTERM during a sync: exit 0, whole file, converges after restart', { timeout: 240_000 }, async (t) => {
  const cluster = await Cluster.create()
  t.after(async () => { await cluster.cleanup() })
  const agents = await cluster.startAll(2)
  const master = await cluster.waitForOneMaster()
  const writer = agents.find(a => a !== master) as AgentProcess
  const receiver = master
  const before = await receiver.status()

  await writer.writeList('blacklist', DOMAINS.join('\n') + '\n')
  // In flight: the upload has started arriving at the receiver but nothing is written there yet.
  await waitFor('the upload to be arriving', async () => {
    const s = await receiver.status()
    return s.bytesReceived > before.bytesReceived + 64 * 1024 || s.datasets.blacklist.entries > 0
  }, 30_000, 5)
  // stop() kills with SIGKILL after 10 s: exit code 0 says the agent stopped by itself.
  const code = await receiver.stop()
  assert.equal(code, 0, receiver.output.slice(-2000))

  // Keys are normalised (case, trailing dot), so the list holds a few less entries than lines.
  const full: number = (await writer.status()).datasets.blacklist.entries
  assert.ok(full > 120_000, `the writer has the list (${full})`)
  const after = await completeKeys(receiver)
  assert.ok(after.length === 0 || after.length === full, `old or complete content, got ${after.length} of ${full} entries`)

  await receiver.start(receiver === agents[0] ? [] : [agents[0].multiaddr])
  await waitFor('the restarted node to have the full list', async () => (await completeKeys(receiver)).length === full, 120_000, 500)
  assert.equal((await receiver.status()).datasets.blacklist.entries, full)
})
