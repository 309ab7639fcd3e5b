import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { hasLineAtEnd, TAIL_BYTES, timeUntilLineAt } from '../../../bench/cluster/harness.js'

async function inTemp (fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'spamsync-line-poll-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** A file of `lines` filler lines, more than TAIL_BYTES in all. */
function filler (lines: number): string {
  let out = ''
  for (let i = 0; i < lines; i++) out += `filler-${i}.example.com\n`
  return out
}

describe('the cluster bench polls a file for a line at its end', () => {
  test('a line appended to a file larger than the part read is found', async () => {
    await inTemp(async (dir) => {
      const path = join(dir, 'list.txt')
      const text = filler(10_000)
      assert.ok(text.length > 2 * TAIL_BYTES)
      await writeFile(path, text)
      const t0 = performance.now()
      setTimeout(() => { void appendFile(path, 'added.example.com\n') }, 30)
      const ms = await timeUntilLineAt(path, 'added.example.com', t0, 5, 5000)
      assert.ok(ms !== null && ms >= 25, `found after ${String(ms)} ms`)
    })
  })

  test('only the end is read: a line far from it is not looked for', async () => {
    await inTemp(async (dir) => {
      const path = join(dir, 'list.txt')
      await writeFile(path, 'early.example.com\n' + filler(10_000))
      assert.equal(await timeUntilLineAt(path, 'early.example.com', performance.now(), 5, 100), null)
    })
  })

  test('a line is matched whole: not as the end of a longer line cut at the start of the part read', () => {
    const cut = { bytes: Buffer.from('le.com\nother.com\n'), whole: false }
    assert.equal(hasLineAtEnd(cut, 'le.com'), false)
    assert.equal(hasLineAtEnd({ ...cut, whole: true }, 'le.com'), true)
    assert.equal(hasLineAtEnd(cut, 'other.com'), true)
  })

  test('a last line without a line break counts', () => {
    assert.equal(hasLineAtEnd({ bytes: Buffer.from('a.com\nb.com'), whole: true }, 'b.com'), true)
    assert.equal(hasLineAtEnd({ bytes: Buffer.from('a.com\nxb.com'), whole: true }, 'b.com'), false)
  })
})
