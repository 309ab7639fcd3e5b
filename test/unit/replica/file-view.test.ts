/** FileView: a settings file's text as last read or written, which can be let go and taken back. */
import { describe, test } from 'node:test'
import { createHash } from 'node:crypto'
import assert from 'node:assert/strict'
import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { FileViewReleasedError, StoreFormatError } from '../../../src/errors.js'
import { isUtf8 } from 'node:buffer'
import fc from 'fast-check'
import { bytesDigest, FileView, viewDigest } from '../../../src/replica/file-view.js'
import { decodeFileText } from '../../../src/settings/settings-file.js'
import { REPORTED_LINE_CHARS, reparseListFile } from '../../../src/settings/list-file.js'
import { finish } from '../../../src/pace.js'

const TEXT = 'a.example\nnot a key!\nb.example note\na.example\n'

describe('FileView', () => {
  test('a view let go refuses its text until it is given back', () => {
    const view = new FileView('blacklist', TEXT)
    assert.equal(view.release(), TEXT.length)
    assert.equal(view.released, true)
    assert.throws(() => view.text, FileViewReleasedError)
    assert.throws(() => view.parsed, FileViewReleasedError)
    view.restore(TEXT, 'test')
    assert.equal(view.released, false)
    assert.equal(view.text, TEXT)
    assert.equal(view.parsed.entries.get('b.example'), 'note')
  })

  test('takes its text back with the parse it had, not parsing it again, once its release was prepared', () => {
    const view = new FileView('blacklist', TEXT)
    const before = view.parsed
    finish(view.releaseSteps())
    view.release()
    view.restore(TEXT, 'test')
    const parsed = view.parsedIfMade
    assert.ok(parsed !== undefined)
    assert.deepEqual([...parsed.lines].map(l => [l.kind, l.raw, l.key]), [...before.lines].map(l => [l.kind, l.raw, l.key]))
    assert.deepEqual([...parsed.entries], [...before.entries])
    assert.deepEqual(parsed.invalid, before.invalid)
  })

  test('the parse taken back after an edit finds the entries the edit made, with their values', () => {
    const base = new FileView('blacklist', 'a.example\nb.example\n')
    const text = 'a.example\nb.example\nFE80::0:1 note\n'
    const view = new FileView('blacklist', text, reparseListFile(base.parsed, text, 'blacklist.txt'))
    finish(view.releaseSteps())
    view.release()
    view.restore(text, 'test')
    assert.equal(view.parsedIfMade?.entries.get('fe80::1'), 'note')
    assert.equal(view.parsedIfMade?.entries.size, 3)
    assert.equal(view.parsedIfMade?.lines.key(2), 'fe80::1')
  })

  test('a view let go holds nothing of its text: the collector frees it, with the parse kept', () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const { view, length } = editedView()
    finish(view.releaseSteps())
    gc()
    const held = getHeapStatistics().used_heap_size
    view.release()
    gc()
    const freed = held - getHeapStatistics().used_heap_size
    assert.ok(freed > length * 0.8, `${freed} bytes freed of a ${length}-character text`)
  })

  test('keeps its report of bad lines while let go', () => {
    const view = new FileView('blacklist', TEXT)
    const before = view.invalid
    view.release()
    assert.deepEqual(view.invalid, before)
    assert.deepEqual(view.invalid.invalidLines.map(l => [l.line, l.text]), [[2, 'not a key!'], [4, 'a.example']])
  })

  test('makes the report when let go before anyone asked for it', () => {
    const view = new FileView('blacklist', TEXT)
    view.release()
    assert.equal(view.invalid.invalidCount, 2)
  })

  test('reports a long bad line cut, as status does', () => {
    const view = new FileView('blacklist', 'x'.repeat(REPORTED_LINE_CHARS + 50) + '!\n')
    view.release()
    assert.equal(view.invalid.invalidLines[0].text, 'x'.repeat(REPORTED_LINE_CHARS) + '…')
  })

  test('refuses to take back another text of the same length (a stored view that changed)', () => {
    const view = new FileView('blacklist', TEXT)
    view.release()
    assert.throws(() => { view.restore(TEXT.replace('b.example', 'c.example'), 'fileview!blacklist') }, StoreFormatError)
    assert.throws(() => { view.restore(TEXT + 'c.example\n', 'fileview!blacklist') }, StoreFormatError)
    assert.equal(view.released, true)
  })

  test('tells apart texts that differ only in bytes that were not UTF-8', () => {
    const view = new FileView('blacklist', 'a\udc80.example\n')
    view.release()
    assert.throws(() => { view.restore('a\udc81.example\n', 'test') }, StoreFormatError)
    view.restore('a\udc80.example\n', 'test')
    assert.equal(view.text, 'a\udc80.example\n')
  })

  test('digests a well-formed text over its UTF-8 bytes, not a UTF-16 copy twice their size', () => {
    const text = 'a.example\nb.example\n'
    assert.equal(viewDigest(text), createHash('sha256').update('utf8:').update(Buffer.from(text, 'utf8')).digest('hex'))
  })

  test('digests a text with bytes that were not UTF-8 over its UTF-16 units, apart from any well-formed text', () => {
    assert.notEqual(viewDigest('a\udc80'), viewDigest('a\udc81'))
    assert.notEqual(viewDigest('a\udc80'), viewDigest('a\ufffd'))
  })

  test('the digest of stored bytes that are UTF-8 is the digest of the text they decode to; of other bytes there is none', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), (raw, text) => {
      const utf8 = Buffer.from(text, 'utf8')
      assert.equal(bytesDigest(utf8), viewDigest(decodeFileText(utf8)))
      const digest = bytesDigest(raw)
      if (digest !== undefined) assert.equal(digest, viewDigest(decodeFileText(raw)))
      else assert.equal(isUtf8(raw), false)
    }), { numRuns: 1000 })
  })

  test('refuses a text given back with a digest that is not the one of the text let go', () => {
    const view = new FileView('blacklist', TEXT)
    view.release()
    assert.throws(() => { view.restore(TEXT, 'fileview!blacklist', bytesDigest(Buffer.from(TEXT.replace('b.', 'c.')))) }, StoreFormatError)
    view.restore(TEXT, 'fileview!blacklist', bytesDigest(Buffer.from(TEXT)))
    assert.equal(view.text, TEXT)
  })
})

/**
 * A big view whose parse was made from the one before (layered entries, a normalised key that is
 * no slice of its line), its text made at run time; in a function of its own, so no temporary
 * of the caller's frame holds the text or the parse.
 */
function editedView (): { view: FileView, length: number } {
  const lines = Array.from({ length: 400_000 }, (_, i) => `host-${i}.EXAMPLE`)
  const base = new FileView('blacklist', lines.join('\n') + '\n')
  const text = lines.join('\n') + '\nFE80::0:1\n'
  return { view: new FileView('blacklist', text, reparseListFile(base.parsed, text, 'blacklist.txt')), length: text.length }
}
