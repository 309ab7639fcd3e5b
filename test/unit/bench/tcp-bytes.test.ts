import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { parseSs, tcpDelta } from '../../../bench/tcp-bytes.js'

const INFO = '\t bbr wscale:10,10 rto:204 bytes_sent:2089 bytes_retrans:100 bytes_acked:1990 bytes_received:2321'

describe('TCP byte counts from ss', () => {
  test('addresses and acknowledged bytes are read with or without the state column', () => {
    const withState = `ESTAB 0      0      127.0.0.1:42973 127.0.0.1:41362 users:(("MainThread",pid=5260,fd=29))\n${INFO}\n`
    const withoutState = `0      0      127.0.0.1:42973 127.0.0.1:41362 users:(("MainThread",pid=5260,fd=29))\n${INFO}\n`
    const want = [{ local: '127.0.0.1:42973', remote: '127.0.0.1:41362', pid: 5260, bytesAcked: 1989 }]
    assert.deepEqual(parseSs(withState), want)
    assert.deepEqual(parseSs(withoutState), want)
  })

  test('a socket opened between two snapshots counts in full, a closed one is reported as closed', () => {
    const before = new Map([['1 a->b', 100], ['1 c->d', 50]])
    const after = new Map([['1 a->b', 300], ['1 e->f', 40]])
    assert.deepEqual(tcpDelta(before, after), { bytes: 240, closed: 1 })
  })
})
