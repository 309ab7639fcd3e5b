/** FileView: a settings file's text as last read or written, which can be let go and taken back. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { FileViewReleasedError, StoreFormatError } from '../../../src/errors.js'
import { FileView } from '../../../src/replica/file-view.js'
import { REPORTED_LINE_CHARS } from '../../../src/settings/list-file.js'

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
})
