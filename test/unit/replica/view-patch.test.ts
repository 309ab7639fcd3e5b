/** File views stored as patches: a patch turns the stored text into the new one, exactly. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { StoreFormatError } from '../../../src/errors.js'
import { applyViewPatch, applyViewPatches, MIN_PATCHED_TEXT, viewPatch } from '../../../src/replica/view-patch.js'

const big = (n: number): string => Array.from({ length: n }, (_, i) => `host-${i}.example\n`).join('')
const BIG = big(Math.ceil(MIN_PATCHED_TEXT / 10))

test('a patch of a small edit of a big text turns it into the edited text', () => {
  const unit = fc.constantFrom('a', '\n', 'é', '\u{1F600}', '\udc80', '\udcff', '\ud83d')
  fc.assert(fc.property(fc.nat({ max: BIG.length }), fc.nat({ max: 40 }), fc.string({ unit, maxLength: 40 }), (at, remove, insert) => {
    const after = BIG.slice(0, at) + insert + BIG.slice(at + remove)
    const patch = viewPatch(BIG, after)
    // A lone high surrogate is not a text a file view can hold (decodeFileText never makes one).
    if (/[\ud800-\udbff](?![\udc00-\udfff])/.test(after)) return
    assert.ok(patch !== null)
    assert.equal(applyViewPatch(BIG, patch, 'test'), after)
  }), { numRuns: 500 })
})

test('an edit between the two halves of a surrogate pair is patched without splitting it', () => {
  const before = BIG + '\u{1F600}\n'
  const after = BIG + '\u{1F601}\n'
  assert.equal(applyViewPatch(before, viewPatch(before, after)!, 'test'), after)
})

test('a small text, or a change of most of the text, is stored whole', () => {
  assert.equal(viewPatch('a.example\n', 'b.example\n'), null)
  assert.equal(viewPatch(BIG, big(10).repeat(1) + 'x'.repeat(BIG.length)), null)
})

test('a patch that does not fit the stored text is a StoreFormatError', () => {
  const patch = viewPatch(BIG, BIG + 'new.example\n')!
  assert.throws(() => applyViewPatch('short\n', patch, 'x!fileview!whitelist!patch!00000000'), StoreFormatError)
})

test('a patch made with a known edit keeps the text outside it as the edit says, without comparing the texts', () => {
  const after = BIG + 'new.example\n'
  // The edit says the texts may differ from 16 characters before the end of the old one: the patch starts there.
  const edit = { start: BIG.length - 16, oldEnd: BIG.length, newEnd: after.length }
  const patch = viewPatch(BIG, after, edit)!
  assert.equal(new DataView(patch.buffer, patch.byteOffset).getUint32(0, true), BIG.length - 16)
  assert.equal(applyViewPatch(BIG, patch, 'test'), after)
  // Compared, the texts agree up to the old end.
  const compared = viewPatch(BIG, after)!
  assert.equal(new DataView(compared.buffer, compared.byteOffset).getUint32(0, true), BIG.length)
})

test('patches applied together give the text each applied after the one before gives', () => {
  const texts = [BIG]
  const patches: Array<[string, Uint8Array]> = []
  for (let i = 0; i < 200; i++) {
    const before = texts[texts.length - 1]
    const at = (i * 7919) % before.length
    const after = i % 3 === 0 ? before + `added-${i}.example\n` : before.slice(0, at) + `edit-${i}\n` + before.slice(at + (i % 5))
    patches.push([`patch ${i}`, viewPatch(before, after)!])
    texts.push(after)
  }
  assert.equal(applyViewPatches(BIG, patches), texts[texts.length - 1])
  assert.equal(applyViewPatches(BIG, patches.slice(0, 50)), texts[50])
})

test('one patch of many that does not fit the text before it is a StoreFormatError naming it', () => {
  const first = viewPatch(BIG, BIG.slice(0, BIG.lastIndexOf('\n', BIG.length * 0.9) + 1))!
  const second = viewPatch(BIG, BIG + 'new.example\n')!
  assert.throws(() => applyViewPatches(BIG, [['first', first], ['second', second]]), (err: Error) => err instanceof StoreFormatError && /^second:/.test(err.message))
})
