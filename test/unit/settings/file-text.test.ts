import { test } from 'node:test'
import assert from 'node:assert/strict'
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileTextFrom, fileTextIn } from '../../../src/settings/file-text.js'
import { decodeFileText } from '../../../src/settings/settings-file.js'
import type { TextEdit } from '../../../src/settings/text-edit.js'
import { SplicedText, type TextReader } from '../../../src/settings/spliced-text.js'

/** A list text longer than the chunks the bytes are compared in. */
const BIG = Array.from({ length: 5000 }, (_, i) => `line-${i}.example\n`).join('')

/** Whether `edit` is true of the two texts: they agree before its start and after its ends, and its inserted part (when given) is the new text's between them. */
function holds (before: string, after: string, edit: TextEdit): boolean {
  return before.slice(0, edit.start) === after.slice(0, edit.start) && before.slice(edit.oldEnd) === after.slice(edit.newEnd) &&
    (edit.inserted === undefined || edit.inserted === after.slice(edit.start, edit.newEnd)) &&
    edit.start <= edit.oldEnd && edit.start <= edit.newEnd
}

test('bytes that are the text before give that string back, with an edit that changes nothing', () => {
  const found = fileTextFrom(BIG, Buffer.from(BIG))
  assert.ok(found !== null)
  assert.equal(found.text, BIG)
  assert.deepEqual(found.edit, { start: BIG.length, oldEnd: BIG.length, newEnd: BIG.length })
})

test('a line appended is found as an edit at the end of the text', () => {
  const after = BIG + 'operator.example\n'
  const found = fileTextFrom(BIG, Buffer.from(after))
  assert.equal(found?.text, after)
  assert.deepEqual(found?.edit, { start: BIG.length, oldEnd: BIG.length, newEnd: after.length })
})

test('a same-size edit in the middle of the file is found, only there', () => {
  const at = BIG.indexOf('line-2500.')
  const after = BIG.slice(0, at) + 'LINE' + BIG.slice(at + 4)
  assert.equal(after.length, BIG.length)
  const found = fileTextFrom(BIG, Buffer.from(after))
  assert.equal(found?.text, after)
  assert.deepEqual(found?.edit, { start: at, oldEnd: at + 4, newEnd: at + 4 })
})

test('a file cut short is found as a removal at its end', () => {
  const after = BIG.slice(0, 1000)
  const found = fileTextFrom(BIG, Buffer.from(after))
  assert.equal(found?.text, after)
  assert.deepEqual(found?.edit, { start: 1000, oldEnd: BIG.length, newEnd: 1000 })
})

test('an edit next to characters of several bytes never splits one', () => {
  const before = `${BIG}café-€-😀.example\n${BIG}`
  const at = before.indexOf('😀')
  // The emoji's first byte kept, the others changed: the common start ends before the emoji.
  const after = before.slice(0, at) + '😁' + before.slice(at + 2)
  const found = fileTextFrom(before, Buffer.from(after))
  assert.equal(found?.text, after)
  assert.ok(found !== null && holds(before, after, found.edit))
  assert.equal(found?.edit.start, at)
  assert.equal(found?.edit.oldEnd, at + 2)
})

test('bytes that are not UTF-8 are decoded as decodeFileText decodes them', () => {
  const bytes = Buffer.concat([Buffer.from(BIG), Buffer.from([0x62, 0xff, 0xc3, 0x0a]), Buffer.from(BIG)])
  const found = fileTextFrom(BIG + BIG, bytes)
  assert.equal(found?.text, decodeFileText(bytes))
  assert.ok(found !== null && holds(BIG + BIG, found.text, found.edit))
})

test('a text before that holds bytes that were not UTF-8 is left to the caller to decode', () => {
  assert.equal(fileTextFrom(decodeFileText(Buffer.from([0x61, 0xff, 0x0a])), Buffer.from('a\n')), null)
})

test('random edits anywhere, of any size, give the decoded text and an edit true of it', () => {
  const pieces = ['a', '\n', 'é', '€', '😀', 'line.example\n', '\r\n']
  let seed = 7
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
  for (let trial = 0; trial < 300; trial++) {
    const before = Array.from({ length: rnd(3) === 0 ? 20 : 8000 }, () => pieces[rnd(pieces.length)]).join('')
    const bytes = [...Buffer.from(before)]
    for (let k = rnd(3) + 1; k > 0; k--) {
      const at = rnd(bytes.length + 1)
      if (rnd(2) === 0) bytes.splice(at, rnd(5))
      else bytes.splice(at, 0, ...Buffer.from(pieces[rnd(pieces.length)]), ...(rnd(4) === 0 ? [0xff] : []))
    }
    const found = fileTextFrom(before, Buffer.from(bytes))
    const want = decodeFileText(Buffer.from(bytes))
    assert.equal(found?.text, want)
    assert.ok(found !== null && holds(before, want, found.edit), `trial ${trial}`)
  }
})

/** fileTextIn of `bytes` written to a file, its first `size` bytes (all by default). */
function inFile (before: TextReader, bytes: Uint8Array, size = bytes.length): ReturnType<typeof fileTextIn> {
  const dir = mkdtempSync(join(tmpdir(), 'spamsync-file-text-'))
  try {
    writeFileSync(join(dir, 'list.txt'), bytes)
    const fd = openSync(join(dir, 'list.txt'), 'r')
    try {
      return fileTextIn(before, fd, size)
    } finally {
      closeSync(fd)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('a file compared in place that holds the text before gives that string back', () => {
  const found = inFile(BIG, Buffer.from(BIG))
  assert.equal(found?.text, BIG)
  assert.deepEqual(found?.edit, { start: BIG.length, oldEnd: BIG.length, newEnd: BIG.length })
})

test('a file compared in place is read as far as the size given, not past it', () => {
  const after = BIG + 'operator.example\n'
  const found = inFile(BIG, Buffer.from(after + 'written-since.example\n'), Buffer.byteLength(after))
  assert.equal(found?.text, after)
  assert.deepEqual(found?.edit, { start: BIG.length, oldEnd: BIG.length, newEnd: after.length, inserted: 'operator.example\n' })
})

test('edits of a file larger than the part held at once, at its start, middle and end, are found in place', () => {
  // ~1.9 MB: the comparisons from the start and from the end each read several parts.
  const large = Array.from({ length: 100_000 }, (_, i) => `line-${i}.example\n`).join('')
  for (const at of [0, large.indexOf('line-50000.'), large.length - 3, large.length]) {
    const after = large.slice(0, at) + 'é-new.example\n' + large.slice(at + 2)
    const found = inFile(large, Buffer.from(after))
    assert.equal(found?.text, after, `edit at ${at}`)
    assert.ok(found !== null && holds(large, after, found.edit), `edit at ${at}`)
  }
})

test('a text before that holds bytes that were not UTF-8 is left to the caller to read', () => {
  assert.equal(inFile(decodeFileText(Buffer.from([0x61, 0xff, 0x0a])), Buffer.from('a\n')), null)
})

test('random edits of a file compared in place give the text its bytes decode to, and an edit true of it', () => {
  const pieces = ['a', '\n', 'é', '€', '😀', 'line.example\n', '\r\n']
  let seed = 11
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
  for (let trial = 0; trial < 60; trial++) {
    // A few are longer than the part of the file held at once.
    const before = Array.from({ length: rnd(3) === 0 ? 20 : rnd(16) === 0 ? 70_000 : 8000 }, () => pieces[rnd(pieces.length)]).join('')
    const bytes = [...Buffer.from(before)]
    for (let k = rnd(3) + 1; k > 0; k--) {
      const at = rnd(bytes.length + 1)
      if (rnd(2) === 0) bytes.splice(at, rnd(5))
      else bytes.splice(at, 0, ...Buffer.from(pieces[rnd(pieces.length)]), ...(rnd(4) === 0 ? [0xff] : []))
    }
    const found = inFile(before, Buffer.from(bytes))
    const want = decodeFileText(Buffer.from(bytes))
    assert.equal(found?.text, want, `trial ${trial}`)
    assert.ok(found !== null && holds(before, want, found.edit), `trial ${trial}`)
  }
})

test('a file compared in place with a text before read from pieces gives what it gives with that text as one string', () => {
  const pieces = ['a', '\n', 'é', '€', '😀', 'line.example\n', '\r\n']
  let seed = 13
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
  for (let trial = 0; trial < 40; trial++) {
    const first = Array.from({ length: rnd(4) === 0 ? 20 : 8000 }, () => pieces[rnd(pieces.length)]).join('')
    // The text before is itself an edit of an older one, read from the pieces of both.
    const at = rnd(first.length + 1)
    const cut = isLowAt(first, at) ? at + 1 : at
    const before = new SplicedText(first, cut, cut, pieces[rnd(pieces.length)])
    const bytes = [...Buffer.from(before.whole)]
    const at2 = rnd(bytes.length + 1)
    bytes.splice(at2, rnd(3), ...Buffer.from(pieces[rnd(pieces.length)]))
    const flat = inFile(before.whole, Buffer.from(bytes))
    const read = inFile(before, Buffer.from(bytes))
    assert.equal(read?.text, flat?.text, `trial ${trial}`)
    assert.deepEqual(read?.edit, flat?.edit, `trial ${trial}`)
  }
})

/** Whether character `at` of `text` is the second half of a surrogate pair (a cut there would split it). */
function isLowAt (text: string, at: number): boolean {
  const c = text.charCodeAt(at)
  return c >= 0xdc00 && c <= 0xdfff
}
