import { test } from 'node:test'
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { engineHooks } from '../../../src/sync/engine-hooks.js'

function hooks (): { calls: string[], h: ReturnType<typeof engineHooks> } {
  const calls: string[] = []
  const h = engineHooks({
    log: { info: () => {}, warn: (_f: unknown, msg?: string) => { calls.push(`warn ${msg ?? ''}`) } },
    listPath: (ds) => `rel/${ds}.txt`,
    bayesPath: 'rel/bayes.txt',
    afterApply: { changed: (files) => { calls.push(`hook ${files.join(' ')}`) } },
    outputs: { changed: () => { calls.push('outputs') } },
    metrics: { errorReported: (what) => { calls.push(`metric ${what}`) } },
    applied: () => ({ term: 1, seq: 1 })
  })
  return { calls, h }
}

test('written files go to the hook with absolute paths; lists also to the outputs', async () => {
  const { calls, h } = hooks()
  await h.onFilesChanged?.(['blacklist', 'bayes'])
  assert.deepEqual(calls, [`hook ${resolve('rel/blacklist.txt')} ${resolve('rel/bayes.txt')}`, 'outputs'])
})

test('bayes.txt alone renders no output', async () => {
  const { calls, h } = hooks()
  await h.onFilesChanged?.(['bayes'])
  assert.deepEqual(calls, [`hook ${resolve('rel/bayes.txt')}`])
})

test('an error is counted every time and logged at its 1st, 10th, 100th time', () => {
  const { calls, h } = hooks()
  for (let count = 1; count <= 11; count++) h.onError?.({ time: '', what: 'write', message: 'EROFS', count, lastTime: '' })
  assert.equal(calls.filter(c => c === 'metric write').length, 11)
  assert.equal(calls.filter(c => c === 'warn EROFS').length, 2)
})
