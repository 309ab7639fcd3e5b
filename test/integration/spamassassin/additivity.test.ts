/**
 * The assumption the Bayes sync rests on (DESIGN.md, "per-node contributions"), checked against
 * the real sa-learn: DBs that learned disjoint mail, merged by summing token counts and
 * num_spam/num_nonspam, taking the newest atime and the union of seen ids, are exactly the DB of
 * one node that learned all of that mail, in any order.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { backup, corpusMessages, learn, parseBackupForCompare, restore, saLearnPath, SA_SKIP_REASON, type ComparableBackup } from '../../helpers/spamassassin.js'

const skip = saLearnPath() === null ? SA_SKIP_REASON : false

/** 2003-01-01T00:00:00Z: every message of spam-1 and easy-ham-1 is dated 2002. */
const END_OF_2002 = 1041379200

/** A fresh folder, removed when the test ends. */
async function tempDir (t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-sa-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** The merge the agent does: counts summed, newest atime, seen ids united. */
function merge (dbs: ComparableBackup[]): ComparableBackup {
  const out: ComparableBackup = { magic: { dbVersion: 3, numSpam: 0, numHam: 0 }, tokens: new Map(), seen: new Map(), otherMagic: [] }
  for (const db of dbs) {
    out.magic.numSpam += db.magic.numSpam
    out.magic.numHam += db.magic.numHam
    for (const [tok, v] of db.tokens) {
      const [s, h, a] = v.split(' ').map(Number)
      const prev = out.tokens.get(tok)?.split(' ').map(Number) ?? [0, 0, 0]
      out.tokens.set(tok, `${prev[0] + s} ${prev[1] + h} ${Math.max(prev[2], a)}`)
    }
    for (const [id, flag] of db.seen) out.seen.set(id, flag)
  }
  return out
}

/** `sa-learn --restore` input for a DB. */
function format (db: ComparableBackup): string {
  const lines = [
    `v\t${db.magic.dbVersion}\tdb_version # this must be the first line!!!`,
    `v\t${db.magic.numSpam}\tnum_spam`,
    `v\t${db.magic.numHam}\tnum_nonspam`
  ]
  for (const [tok, v] of db.tokens) lines.push(`t\t${v.replaceAll(' ', '\t')}\t${tok}`)
  for (const [id, flag] of db.seen) lines.push(`s\t${flag}\t${id}`)
  return lines.join('\n') + '\n'
}

/** Asserts two DBs are the same DB (line order in a backup is hash order, so it is not compared). */
function assertSameDb (actual: ComparableBackup, expected: ComparableBackup): void {
  assert.deepEqual(actual.magic, expected.magic)
  assert.deepEqual(actual.otherMagic, [])
  assert.equal(actual.tokens.size, expected.tokens.size)
  let differing = 0
  for (const [tok, v] of expected.tokens) if (actual.tokens.get(tok) !== v) differing++
  assert.equal(differing, 0, `${differing} of ${expected.tokens.size} tokens differ`)
  assert.deepEqual(new Map([...actual.seen].sort()), new Map([...expected.seen].sort()))
}

describe('SpamAssassin Bayes learning is additive', { skip, timeout: 300_000 }, () => {
  const spam = corpusMessages('spam-1').slice(0, 20)
  const ham = corpusMessages('easy-ham-1').slice(0, 20)

  test('two DBs that learned disjoint halves, merged, equal one DB that learned everything', async (t) => {
    const dir = await tempDir(t)
    const [a, b, oracle] = ['a', 'b', 'oracle'].map((n) => join(dir, n))
    // The oracle learns in another order (ham first, reversed): order must not matter either.
    const [la, lb, lo] = await Promise.all([
      (async () => [await learn(a, spam.slice(0, 10), 'spam'), await learn(a, ham.slice(0, 10), 'ham')])(),
      (async () => [await learn(b, spam.slice(10), 'spam'), await learn(b, ham.slice(10), 'ham')])(),
      (async () => [await learn(oracle, [...ham].reverse(), 'ham'), await learn(oracle, [...spam].reverse(), 'spam')])()
    ])
    // Every message is learned: the 40 have 40 different SpamAssassin message ids.
    for (const r of [...la, ...lb]) assert.equal(r.learned, 10)
    for (const r of lo) assert.equal(r.learned, 20)

    const [dbA, dbB, dbO] = (await Promise.all([backup(a), backup(b), backup(oracle)])).map(parseBackupForCompare)
    assert.deepEqual(dbO.magic, { dbVersion: 3, numSpam: 20, numHam: 20 })
    assert.ok(dbA.tokens.size > 1000 && dbB.tokens.size > 1000)
    // Halves share tokens, so the merge really sums (not just unites) counts.
    const shared = [...dbA.tokens.keys()].filter((tok) => dbB.tokens.has(tok)).length
    assert.ok(shared > 100, `${shared} shared tokens`)

    const merged = merge([dbA, dbB])
    assertSameDb(merged, dbO)

    // atime is the message's date, not the time of learning: that is what makes it deterministic.
    for (const v of dbO.tokens.values()) assert.ok(Number(v.split(' ')[2]) < END_OF_2002, v)

    // The merged DB, restored over a DB that already holds data, becomes exactly the oracle:
    // --restore wipes first and reads tokens in any order.
    const file = join(dir, 'merged.txt')
    const shuffled = parseBackupForCompare(format(merged))
    shuffled.tokens = new Map([...shuffled.tokens].reverse())
    await writeFile(file, format(shuffled))
    await restore(a, file)
    assertSameDb(parseBackupForCompare(await backup(a)), dbO)
  })

  test('limit: one message learned on two nodes counts twice in the merge, once in one DB', async (t) => {
    const dir = await tempDir(t)
    // Two corpus files with one SpamAssassin message id (same To, Date and body).
    const twins = corpusMessages('spam-1').filter((f) => /^000(44|94)\./.test(basename(f)))
    assert.equal(twins.length, 2)
    const [a, b, oracle] = ['a', 'b', 'oracle'].map((n) => join(dir, n))
    const [, , lo] = await Promise.all([learn(a, [twins[0]], 'spam'), learn(b, [twins[1]], 'spam'), learn(oracle, twins, 'spam')])
    assert.deepEqual([lo.learned, lo.examined], [1, 2])
    const [dbA, dbB, dbO] = (await Promise.all([backup(a), backup(b), backup(oracle)])).map(parseBackupForCompare)
    const merged = merge([dbA, dbB])
    assert.equal(merged.seen.size, 1)
    assert.equal(dbO.magic.numSpam, 1)
    assert.equal(merged.magic.numSpam, 2)
  })
})
