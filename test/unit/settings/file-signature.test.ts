import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { BigIntStats } from 'node:fs'
import { hasSignature, signatureOf, writtenSignature } from '../../../src/settings/file-signature.js'

/** A stat with the fields a signature reads (times in ns). */
function stat (fields: { ino?: bigint, size?: bigint, mtimeNs: bigint, ctimeNs: bigint }): BigIntStats {
  return { dev: 1n, ino: fields.ino ?? 7n, size: fields.size ?? 100n, mtimeNs: fields.mtimeNs, ctimeNs: fields.ctimeNs } as unknown as BigIntStats
}

describe('writtenSignature', () => {
  test('is the renamed file\'s signature when the rename came a clock tick after the write', () => {
    const renamed = stat({ mtimeNs: 1000n, ctimeNs: 5000n })
    assert.deepEqual(writtenSignature(stat({ mtimeNs: 1000n, ctimeNs: 1000n }), renamed), signatureOf(renamed))
  })

  test('is null when the rename has the write\'s time: a later write could keep the mtime', () => {
    assert.equal(writtenSignature(stat({ mtimeNs: 1000n, ctimeNs: 1000n }), stat({ mtimeNs: 1000n, ctimeNs: 1000n })), null)
  })

  test('is null when the path holds another inode or other bytes after the rename', () => {
    const written = stat({ mtimeNs: 1000n, ctimeNs: 1000n })
    assert.equal(writtenSignature(written, stat({ ino: 8n, mtimeNs: 1000n, ctimeNs: 5000n })), null)
    assert.equal(writtenSignature(written, stat({ size: 101n, mtimeNs: 1000n, ctimeNs: 5000n })), null)
    assert.equal(writtenSignature(written, stat({ mtimeNs: 5000n, ctimeNs: 5000n })), null)
  })
})

describe('hasSignature', () => {
  test('tells a changed change time apart (a chmod or a rename over the file)', () => {
    const sig = signatureOf(stat({ mtimeNs: 1000n, ctimeNs: 5000n }))
    assert.equal(hasSignature(stat({ mtimeNs: 1000n, ctimeNs: 5000n }), sig), true)
    assert.equal(hasSignature(stat({ mtimeNs: 1000n, ctimeNs: 6000n }), sig), false)
  })
})
