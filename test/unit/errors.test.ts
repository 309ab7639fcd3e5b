import { test } from 'node:test'
import assert from 'node:assert/strict'
import { errorMessage } from '../../src/errors.js'

test('an Error is told by its message', () => {
  assert.equal(errorMessage(new TypeError('bad thing')), 'bad thing')
})

test('a stream close event is told as a closed stream, with the error it carries', () => {
  const plain = new Event('close')
  const withError = Object.assign(new Event('close'), { error: new Error('stream reset') })
  assert.equal(errorMessage(plain), 'stream closed')
  assert.equal(errorMessage(withError), 'stream closed: stream reset')
})

test('another event is named by its type, never as [object Event]', () => {
  assert.equal(errorMessage(new Event('abort')), 'stream event "abort"')
})

test('an object with a message is told by it', () => {
  assert.equal(errorMessage({ message: 'WrongArchiveError: not the named archive' }), 'WrongArchiveError: not the named archive')
})

test('anything else is told as its string', () => {
  assert.equal(errorMessage('plain text'), 'plain text')
  assert.equal(errorMessage(undefined), 'undefined')
})
