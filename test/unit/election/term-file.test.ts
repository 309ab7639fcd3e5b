import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readTerm } from '../../../src/agent.js'
import { MAX_TERM } from '../../../src/election/state.js'

test('the term file reads back its term; one past MAX_TERM (2^53 from before the cap) reads as the cap, never lower', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'spamsync-term-'))
  t.after(async () => { await rm(dataDir, { recursive: true, force: true }) })
  assert.equal(readTerm({ dataDir }), 0)
  for (const [text, term] of [['7\n', 7], [`${2 ** 53}\n`, MAX_TERM], [`${2 ** 53 - 1}\n`, MAX_TERM], [`${MAX_TERM}\n`, MAX_TERM]] as const) {
    await writeFile(join(dataDir, 'term'), text)
    assert.equal(readTerm({ dataDir }), term, text)
  }
})
