import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { guarded } from '../../src/guarded.js'

describe('guarded', () => {
  it('passes the arguments through and reports nothing when the callback succeeds', async () => {
    const reports: string[] = []
    const seen: number[] = []
    const cb = guarded('sum', (what) => { reports.push(what) }, (a: number, b: number) => { seen.push(a + b) })
    cb(2, 3)
    assert.deepEqual(seen, [5])
    assert.deepEqual(reports, [])
  })

  it('reports a synchronous throw instead of throwing', () => {
    const reports: Array<[string, unknown]> = []
    const boom = new RangeError('term out of range')
    const cb = guarded('heartbeat', (what, err) => { reports.push([what, err]) }, () => { throw boom })
    assert.doesNotThrow(() => { cb() })
    assert.deepEqual(reports, [['heartbeat', boom]])
  })

  it('reports a rejected promise instead of leaving it unhandled', async () => {
    const boom = new Error('async failure')
    const reported = new Promise<[string, unknown]>((resolve) => {
      guarded('scan', (what, err) => { resolve([what, err]) }, async () => { throw boom })()
    })
    assert.deepEqual(await reported, ['scan', boom])
  })

  it('writes to stderr when the reporter itself throws, and still does not throw', (t) => {
    const written: string[] = []
    const write = t.mock.method(process.stderr, 'write', (chunk: string) => { written.push(String(chunk)); return true })
    try {
      guarded('tick', () => { throw new Error('log closed') }, () => { throw new Error('first') })()
    } finally {
      write.mock.restore()
    }
    assert.equal(written.length, 1)
    assert.match(written[0], /tick: Error: first .*log closed/)
  })
})
