import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ArchiveOffer, FanOutFetcher, FULL_SENDS_AT_ONCE, HOLDER_WAIT_MS, type FanOutPeers, type FetchAnswer } from '../../../src/sync/fan-out.js'
import { archiveRef, sameArchive, type ArchiveRef } from '../../../src/protocol/archive-ref.js'
import { Status } from '../../../src/pb/spamsync.js'
import { WrongArchiveError } from '../../../src/errors.js'
import { ZERO_VERSION, type Version } from '../../../src/version.js'

const V: Version = { term: 1, seq: 3 }
const ZIP = new Uint8Array([1, 2, 3, 4])
const REF = archiveRef(ZIP, V)

describe('ArchiveOffer', () => {
  test('sends to the first seeds and answers the next unnamed asker BUSY', () => {
    const offer = new ArchiveOffer()
    offer.hold(ZIP, REF)
    for (let i = 0; i < FULL_SENDS_AT_ONCE; i++) assert.notEqual(offer.take(`seed${i}`, true), null)
    assert.equal(offer.take('late', true), null)
  })

  test('once the seeds are served, later unnamed askers are still answered BUSY', () => {
    const offer = new ArchiveOffer()
    offer.hold(ZIP, REF)
    for (let i = 0; i < FULL_SENDS_AT_ONCE; i++) offer.take(`seed${i}`, true)?.()
    assert.equal(offer.take('late', true), null)
    assert.deepEqual(offer.sources.sort(), Array.from({ length: FULL_SENDS_AT_ONCE }, (_, i) => `seed${i}`))
  })

  test('an asker that names the archive is sent it whenever a slot is free', () => {
    const offer = new ArchiveOffer()
    offer.hold(ZIP, REF)
    const releases = Array.from({ length: FULL_SENDS_AT_ONCE }, (_, i) => offer.take(`seed${i}`, true))
    assert.equal(offer.take('named', false), null, 'every slot is taken')
    releases[0]?.()
    assert.notEqual(offer.take('named', false), null)
  })

  test('a new archive starts with no seeds', () => {
    const offer = new ArchiveOffer()
    offer.hold(ZIP, REF)
    for (let i = 0; i < FULL_SENDS_AT_ONCE; i++) offer.take(`seed${i}`, true)?.()
    const zip2 = new Uint8Array([9])
    offer.hold(zip2, archiveRef(zip2, { term: 1, seq: 4 }))
    assert.notEqual(offer.take('next', true), null)
    assert.deepEqual(offer.sources, ['next'])
  })
})

/** A scripted cluster: what each peer answers, who holds what, and every call made. */
function fakePeers (opts: {
  answers: Record<string, (archive?: ArchiveRef) => FetchAnswer>
  holders?: string[]
  awaited?: string[]
}): FanOutPeers & { calls: Array<{ peer: string, named: boolean }>, failures: Array<{ peer: string, err: unknown }> } {
  const calls: Array<{ peer: string, named: boolean }> = []
  const failures: Array<{ peer: string, err: unknown }> = []
  return {
    calls,
    failures,
    fetch: async (peer, _since, _want, archive) => {
      calls.push({ peer, named: archive !== undefined })
      const answer = opts.answers[peer]
      if (answer === undefined) throw new Error(`no answer scripted for ${peer}`)
      return answer(archive)
    },
    holders: () => opts.holders ?? [],
    awaited: (id) => (opts.awaited ?? []).includes(id),
    onPeerFailed: (peer, err) => { failures.push({ peer, err }) }
  }
}

const ok = (ref: ArchiveRef = REF, zip: Uint8Array = ZIP): FetchAnswer => ({ status: Status.OK, reason: '', version: ref.version, archive: ref, sources: [], zip })
const busy = (sources: string[] = ['seed']): FetchAnswer => ({ status: Status.BUSY, reason: 'busy', version: V, archive: REF, sources })

describe('FanOutFetcher', () => {
  test('takes what the master sends when it is not busy, and asks no peer', async () => {
    const peers = fakePeers({ answers: { master: () => ok() }, holders: ['h1'] })
    const got = await new FanOutFetcher('me', peers).fetch('master', ZERO_VERSION, V)
    assert.equal(got?.peer, 'master')
    assert.deepEqual(peers.calls, [{ peer: 'master', named: false }])
  })

  test('told BUSY, fetches the named archive from a peer that announced it', async () => {
    const peers = fakePeers({
      answers: { master: () => busy(), h1: (archive) => { assert.ok(archive !== undefined && sameArchive(archive, REF)); return ok() } },
      holders: ['h1']
    })
    const got = await new FanOutFetcher('me', peers).fetch('master', ZERO_VERSION, V)
    assert.equal(got?.peer, 'h1')
    assert.deepEqual(got?.answer.zip, ZIP)
    assert.deepEqual(peers.calls, [{ peer: 'master', named: false }, { peer: 'h1', named: true }])
  })

  test('told BUSY with no holder yet and a seed still receiving, waits without asking the master again', async () => {
    const peers = fakePeers({ answers: { master: () => busy(['seed']) }, awaited: ['seed'] })
    const fetcher = new FanOutFetcher('me', peers)
    assert.equal(await fetcher.fetch('master', ZERO_VERSION, V), null)
    assert.equal(await fetcher.fetch('master', ZERO_VERSION, V), null)
    assert.deepEqual(peers.calls, [{ peer: 'master', named: false }])
    assert.ok(fetcher.awaiting !== null && sameArchive(fetcher.awaiting, REF))
  })

  test('told BUSY when no seed can still come to hold it, falls back to the master at once, naming the archive', async () => {
    const peers = fakePeers({ answers: { master: (archive) => archive === undefined ? busy(['gone']) : ok() }, awaited: [] })
    const got = await new FanOutFetcher('me', peers).fetch('master', ZERO_VERSION, V)
    assert.equal(got?.peer, 'master')
    assert.deepEqual(peers.calls, [{ peer: 'master', named: false }, { peer: 'master', named: true }])
  })

  test('holders that answer BUSY are waited for, also when every seed already holds the archive', async () => {
    const peers = fakePeers({ answers: { master: (archive) => archive === undefined ? busy(['seed']) : ok(), seed: () => busy() }, holders: ['seed'], awaited: [] })
    assert.equal(await new FanOutFetcher('me', peers).fetch('master', ZERO_VERSION, V), null)
    assert.deepEqual(peers.calls, [{ peer: 'master', named: false }, { peer: 'seed', named: true }])
  })

  test('a peer that sends another archive than the named one is refused with WrongArchiveError, and the master is asked', async () => {
    const other = new Uint8Array([6, 6, 6])
    const peers = fakePeers({
      answers: { master: (archive) => archive === undefined ? busy() : ok(), liar: () => ok(archiveRef(other, V), other) },
      holders: ['liar'],
      awaited: ['seed']
    })
    const got = await new FanOutFetcher('me', peers).fetch('master', ZERO_VERSION, V)
    assert.equal(peers.failures.length, 1)
    assert.equal(peers.failures[0].peer, 'liar')
    assert.ok(peers.failures[0].err instanceof WrongArchiveError)
    assert.equal(got?.peer, 'master')
    assert.deepEqual(got?.answer.zip, ZIP)
  })

  test('a peer that refuses is reported, and the master is asked', async () => {
    const peers = fakePeers({
      answers: { master: (archive) => archive === undefined ? busy() : ok(), h1: () => ({ status: Status.REFUSED, reason: 'not held', sources: [] }) },
      holders: ['h1'],
      awaited: ['seed']
    })
    const got = await new FanOutFetcher('me', peers).fetch('master', ZERO_VERSION, V)
    assert.equal(peers.failures[0]?.peer, 'h1')
    assert.equal(got?.peer, 'master')
  })

  test('a peer that failed is not asked again for that archive', async () => {
    const peers = fakePeers({
      answers: { master: () => busy(), h1: () => { throw new Error('connection reset') } },
      holders: ['h1'],
      awaited: ['seed']
    })
    const fetcher = new FanOutFetcher('me', peers)
    assert.equal(await fetcher.fetch('master', ZERO_VERSION, V), null)
    assert.equal(await fetcher.fetch('master', ZERO_VERSION, V), null)
    assert.equal(peers.calls.filter(c => c.peer === 'h1').length, 1)
  })

  test('a busy peer is no failure: the fetcher waits for a free one', async () => {
    const peers = fakePeers({ answers: { master: () => busy(), h1: () => busy([]) }, holders: ['h1'], awaited: ['seed'] })
    const got = await new FanOutFetcher('me', peers).fetch('master', ZERO_VERSION, V)
    assert.equal(got, null)
    assert.equal(peers.failures.length, 0)
    assert.deepEqual(peers.calls, [{ peer: 'master', named: false }, { peer: 'h1', named: true }])
  })

  test(`with no holder after ${HOLDER_WAIT_MS} ms, asks the master again naming the archive`, async () => {
    let now = 0
    const peers = fakePeers({ answers: { master: (archive) => archive === undefined ? busy() : ok() }, awaited: ['seed'] })
    const fetcher = new FanOutFetcher('me', peers, () => now)
    assert.equal(await fetcher.fetch('master', ZERO_VERSION, V), null)
    now = HOLDER_WAIT_MS
    const got = await fetcher.fetch('master', ZERO_VERSION, V)
    assert.equal(got?.peer, 'master')
    assert.deepEqual(peers.calls, [{ peer: 'master', named: false }, { peer: 'master', named: true }])
  })

  test(`waits ${HOLDER_WAIT_MS} ms from the last new holder, not from the master's answer, before asking the master`, async () => {
    let now = 0
    const holders: string[] = []
    const peers = fakePeers({ answers: { master: (archive) => archive === undefined ? busy() : ok(), h1: () => busy(), h2: () => busy() }, holders, awaited: ['seed'] })
    const fetcher = new FanOutFetcher('me', peers, () => now)
    assert.equal(await fetcher.fetch('master', ZERO_VERSION, V), null)
    now = HOLDER_WAIT_MS - 1
    holders.push('h1')
    assert.equal(await fetcher.fetch('master', ZERO_VERSION, V), null, 'a new holder, busy: wait on')
    now = 2 * HOLDER_WAIT_MS - 2
    holders.push('h2')
    assert.equal(await fetcher.fetch('master', ZERO_VERSION, V), null, 'another new holder: wait on')
    now = 3 * HOLDER_WAIT_MS - 2
    const got = await fetcher.fetch('master', ZERO_VERSION, V)
    assert.equal(got?.peer, 'master', `no new holder for ${HOLDER_WAIT_MS} ms: the master`)
    assert.deepEqual(peers.calls.filter(c => c.peer === 'master'), [{ peer: 'master', named: false }, { peer: 'master', named: true }])
  })

  test('once its applied version reaches the awaited archive, asks the master for a delta again', async () => {
    const peers = fakePeers({ answers: { master: (archive) => archive === undefined ? busy() : ok() }, awaited: ['seed'] })
    const fetcher = new FanOutFetcher('me', peers)
    await fetcher.fetch('master', ZERO_VERSION, V)
    peers.calls.length = 0
    await fetcher.fetch('master', V, { term: 1, seq: 4 })
    assert.deepEqual(peers.calls[0], { peer: 'master', named: false })
  })

  test('after a new term, the archive of the old term is no longer waited for: the new master is asked', async () => {
    const peers = fakePeers({ answers: { master: () => busy(), master2: () => ok(), h1: () => ok() }, awaited: ['seed'] })
    const fetcher = new FanOutFetcher('me', peers)
    await fetcher.fetch('master', ZERO_VERSION, V)
    peers.calls.length = 0
    await fetcher.fetch('master2', ZERO_VERSION, { term: V.term + 1, seq: 1 })
    assert.deepEqual(peers.calls[0], { peer: 'master2', named: false })
  })

  test('fetchers spread over the holders: not every node starts with the same one', async () => {
    const holders = ['h1', 'h2', 'h3']
    const first = new Set<string>()
    for (let i = 0; i < 20; i++) {
      const peers = fakePeers({ answers: { master: () => busy(), h1: () => ok(), h2: () => ok(), h3: () => ok() }, holders })
      const got = await new FanOutFetcher(`node${i}`, peers).fetch('master', ZERO_VERSION, V)
      first.add(got?.peer ?? '')
    }
    assert.ok(first.size > 1, `every node went to ${[...first].join(',')}`)
  })
})
