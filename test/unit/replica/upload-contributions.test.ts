import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkUploadContributions, type ContributionView } from '../../../src/replica/upload-contributions.js'
import { tokensOf, type Contribution } from '../../../src/crdt/bayes-counters.js'
import { ForgedContributionError } from '../../../src/errors.js'
import { encodeSection, type EncodedContribution } from '../../../src/archive/bayes-codec.js'

const db = (spam: number): Contribution => ({ numSpam: spam, numHam: 0, tokens: tokensOf([['0123456789', { spam, ham: 0, atime: 100 }]]), seen: new Map() })
/** The section an upload carries for `nodeId`. */
const part = (nodeId: string, spam: number): EncodedContribution => encodeSection({ nodeId, db: db(spam) })
const view = (held: Record<string, number>, live: string[]): ContributionView => ({
  held: async id => held[id] === undefined ? undefined : db(held[id]),
  speaksForItself: id => live.includes(id)
})

test('an upload of only the uploader\'s own contribution passes, in a delta or a full upload', async () => {
  for (const kind of ['full', 'delta'] as const) await checkUploadContributions('up', kind, [part('up', 9)], view({ up: 1 }, ['up']))
  await checkUploadContributions('up', 'delta', null, view({}, []))
})

test('a delta carrying any other node\'s contribution is refused, live or not, grown or not', async () => {
  for (const live of [[], ['other']]) {
    await assert.rejects(checkUploadContributions('up', 'delta', [part('other', 1)], view({ other: 5 }, live)), ForgedContributionError)
  }
})

test('a full upload hands over a node that is not live, and a live node\'s contribution only when it does not grow it', async () => {
  await checkUploadContributions('up', 'full', [part('gone', 7)], view({}, []))
  await checkUploadContributions('up', 'full', [part('live', 3)], view({ live: 3 }, ['live']))
  await checkUploadContributions('up', 'full', [part('live', 2)], view({ live: 3 }, ['live']))
  await assert.rejects(checkUploadContributions('up', 'full', [part('live', 4)], view({ live: 3 }, ['live'])), ForgedContributionError)
  await assert.rejects(checkUploadContributions('up', 'full', [part('live', 1)], view({}, ['live'])), /would grow the Bayes contribution of node live/)
})
