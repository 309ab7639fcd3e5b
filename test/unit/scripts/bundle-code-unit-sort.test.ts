/** The bundle's patch of libp2p's peer-store sorts (scripts/bundle-code-unit-sort.ts): by code unit, and loudly when a dependency changed. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { BundlePatchError, CODE_UNIT_SORTS, sortByCodeUnit } from '../../../scripts/bundle-code-unit-sort.js'

const SORT = { file: 'x.js', left: 'a', right: 'b', count: 1 }

test('a listed comparison sorts by code unit, as a sort comparator', async () => {
  const patched = sortByCodeUnit('export const order = (a, b) => a.localeCompare(b)', [SORT], 'x.js')
  assert.doesNotMatch(patched, /localeCompare/)
  const { order } = await import('data:text/javascript,' + encodeURIComponent(patched)) as { order: (a: string, b: string) => number }
  assert.deepEqual(['b', 'B', 'a', '/x', 'a'].sort(order), ['/x', 'B', 'a', 'a', 'b'])
})

test('a comparison found more or fewer times than listed fails the build', () => {
  assert.throws(() => sortByCodeUnit('a.localeCompare(b); a.localeCompare(b)', [SORT], 'x.js'), BundlePatchError)
  assert.throws(() => sortByCodeUnit('a < b', [SORT], 'x.js'), /expected 1 of a\.localeCompare\(b\), found 0/)
})

test('every listed comparison is in the installed dependency as often as listed', () => {
  const require = createRequire(import.meta.url)
  for (const s of CODE_UNIT_SORTS) {
    const [scope, name] = s.file.split('/')
    const root = require.resolve(`${scope}/${name}`).replace(/[\\/]dist[\\/].*$/, '')
    const source = readFileSync(`${root}/${s.file.split('/').slice(2).join('/')}`, 'utf8')
    assert.doesNotThrow(() => sortByCodeUnit(source, [s], s.file))
  }
})
