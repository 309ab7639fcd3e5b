/** Config files of the config tests: temp folders removed when the test ends, and error checks. */
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, type ConfigSources } from '../../../src/config.js'
import { ConfigError } from '../../../src/errors.js'

/** A temp folder removed when the test ends, also when it fails. */
export async function tempDir (t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-config-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Writes `content` (an object is written as JSON) to a config file in a temp folder. */
export async function configFile (t: TestContext, content: unknown): Promise<string> {
  const path = join(await tempDir(t), 'spamsync.json')
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content))
  return path
}

/** Asserts loading rejects with a ConfigError whose message matches every pattern. */
export async function rejectsNaming (sources: ConfigSources, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(loadConfig(sources), (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`)
    for (const p of patterns) assert.match(err.message, p)
    return true
  })
}
