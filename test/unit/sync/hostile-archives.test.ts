/**
 * The settings archive reader against each hostile archive of the fault suite: every one is
 * refused with its own named error, and the well-formed control archive is read.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readSettingsArchive } from '../../../src/sync/settings-archive.js'
import { ArchiveError } from '../../../src/errors.js'
import { EVIL_KEY, goodArchive, hostileArchives } from '../../helpers/hostile-archives.js'

describe('readSettingsArchive and the hostile archives', () => {
  test('the control archive is read and holds the evil entry', () => {
    const archive = readSettingsArchive(goodArchive('node-h'))
    assert.deepEqual(archive.lists.get('blacklist')?.map(e => e.key), [EVIL_KEY])
  })

  for (const h of hostileArchives('node-h')) {
    test(`refuses ${h.what} with ${h.error}`, () => {
      assert.throws(() => readSettingsArchive(h.zip), (err: any) => {
        assert.ok(err instanceof ArchiveError, `${String(err)} is an ArchiveError`)
        assert.equal(err.name, h.error)
        return true
      })
    })
  }
})
