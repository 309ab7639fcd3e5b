import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseListFile } from '../../../src/settings/list-file.js'
import { renderIntoEntryless } from '../../../src/settings/list-render.js'
import { KeyIndex } from '../../../src/settings/key-index.js'

test('renderIntoEntryless: its parse makes its key table only when a key is first looked up (the file is written before)', (t) => {
  const add = t.mock.method(KeyIndex.prototype, 'add')
  const out = renderIntoEntryless(parseListFile('# c\n', 'blacklist.txt'), () => ({ keys: ['a.com', 'b.com'], values: ['', 'x'] }))
  assert.equal(add.mock.callCount(), 0)
  assert.equal(out?.parsed.entries.get('b.com'), 'x')
  assert.equal(add.mock.callCount(), 2)
  assert.equal(out?.parsed.entries.has('c.com'), false)
  assert.equal(add.mock.callCount(), 2)
})
