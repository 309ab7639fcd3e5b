/** The status page's script: it parses, and escapes text as the agent does (src/printable.ts). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { STATUS_PAGE_HTML } from '../../../src/http/status-page.js'
import { printable } from '../../../src/printable.js'

const script = STATUS_PAGE_HTML.split('<script>')[1].split('</script>')[0]

test('the page script is valid JavaScript', () => {
  assert.doesNotThrow(() => new Function(script))
})

test('the page escapes control and bidi characters exactly as the agent does', () => {
  // The script's helpers, up to the first function that needs a DOM.
  const pagePrintable = new Function(script.split('function el')[0] + '; return printable')() as (t: unknown) => string
  const hostile = '\x1b[2J\x1b[Hfake\r\n\x9b31m\u202eevil\u2066\x07 Grüße 😀'
  assert.equal(pagePrintable(hostile), printable(hostile))
  assert.equal(pagePrintable(42), '42')
})
