import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ErrorLog, worthLogging } from '../../../src/sync/error-log.js'

describe('ErrorLog', () => {
  it('keeps a repeated error once, with its count, first and last time, moved last', () => {
    const log = new ErrorLog()
    log.add('write whitelist', "EACCES: permission denied, open '/s/.whitelist.txt.tmp-1-aa'", 'EACCES', 0)
    log.add('download', 'stalled', undefined, 1000)
    for (let i = 1; i <= 30; i++) log.add('write whitelist', `EACCES: permission denied, open '/s/.whitelist.txt.tmp-1-${i}'`, 'EACCES', 1000 + i * 333)
    assert.equal(log.entries.length, 2)
    const [download, write] = log.entries
    assert.equal(download.what, 'download')
    assert.equal(write.count, 31)
    assert.equal(write.time, new Date(0).toISOString())
    assert.equal(write.lastTime, new Date(1000 + 30 * 333).toISOString())
    assert.match(write.message, /tmp-1-30'$/)
  })

  it('tells errors apart by what, then by code, then by message', () => {
    const log = new ErrorLog()
    log.add('write whitelist', 'x', 'EACCES', 0)
    log.add('write blacklist', 'x', 'EACCES', 0)
    log.add('write whitelist', 'x', 'ENOSPC', 0)
    log.add('upload', 'refused: a', undefined, 0)
    log.add('upload', 'refused: b', undefined, 0)
    assert.equal(log.entries.length, 5)
    assert.ok(log.entries.every(e => e.count === 1))
  })

  it('keeps only the newest entries', () => {
    const log = new ErrorLog(3)
    for (let i = 0; i < 10; i++) log.add(`job ${i}`, 'failed', undefined, i)
    assert.deepEqual(log.entries.map(e => e.what), ['job 7', 'job 8', 'job 9'])
  })
})

describe('worthLogging', () => {
  it('logs the first repeat and then each power of ten', () => {
    const logged = Array.from({ length: 1000 }, (_, i) => i + 1).filter(worthLogging)
    assert.deepEqual(logged, [1, 10, 100, 1000])
  })
})
