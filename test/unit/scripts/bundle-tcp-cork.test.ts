/** The bundle's patch of @libp2p/tcp's writes (scripts/bundle-tcp-cork.ts): a message's chunks go to the kernel together, and loudly when the dependency changed. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createServer, connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { BundlePatchError } from '../../../scripts/bundle-code-unit-sort.js'
import { CORKED_WRITE_LOOP, TCP_CONN_FILE, WRITE_LOOP, corkedWrites } from '../../../scripts/bundle-tcp-cork.js'

type SendData = (this: { socket: Socket }, data: Uint8Array[]) => { sentBytes: number, canSendMore: boolean }

/** sendData with `loop` as its body, run as the bundle runs it. */
async function sendDataWith (loop: string): Promise<SendData> {
  const source = `export function sendData (data) { let sentBytes = 0; let canSendMore = true; ${loop} return { sentBytes, canSendMore } }`
  return (await import('data:text/javascript,' + encodeURIComponent(source)) as { sendData: SendData }).sendData
}

/** The writes a socket hands to its handle (one each: a write syscall) when `sendData` sends the chunks `data`. */
async function handleWrites (loop: string, data: Uint8Array[]): Promise<number[][]> {
  const sendData = await sendDataWith(loop)
  const server = createServer(s => { s.resume() })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const writes: number[][] = []
  const s = socket as unknown as { _write: (c: Buffer, e: string, cb: () => void) => void, _writev: (cs: Array<{ chunk: Buffer }>, cb: () => void) => void }
  const write = s._write.bind(socket)
  const writev = s._writev.bind(socket)
  s._write = (chunk, enc, cb) => { writes.push([chunk.byteLength]); write(chunk, enc, cb) }
  s._writev = (chunks, cb) => { writes.push(chunks.map(c => c.chunk.byteLength)); writev(chunks, cb) }
  try {
    const sent = sendData.call({ socket }, data)
    assert.equal(sent.sentBytes, data.reduce((n, d) => n + d.byteLength, 0))
    return writes
  } finally {
    socket.destroy()
    server.close()
  }
}

test('the installed TCP connection module holds the per-chunk write loop exactly once', () => {
  const path = fileURLToPath(import.meta.resolve('@libp2p/tcp')).replace(/index\.js$/, 'socket-to-conn.js')
  assert.ok(path.replaceAll('\\', '/').endsWith('/' + TCP_CONN_FILE))
  const patched = corkedWrites(readFileSync(path, 'utf8'), TCP_CONN_FILE)
  assert.ok(patched.includes(CORKED_WRITE_LOOP))
})

test("a Noise message's length and sealed bytes go to the socket in one write", async () => {
  const message = [new Uint8Array([1, 44]), new Uint8Array(300)]
  assert.deepEqual(await handleWrites(WRITE_LOOP, message), [[2], [300]])
  assert.deepEqual(await handleWrites(CORKED_WRITE_LOOP, message), [[2, 300]])
})

test('a TCP connection module without the write loop, or with two, fails the build', () => {
  assert.throws(() => corkedWrites('sendData(data) {}', 'x.js'), BundlePatchError)
  assert.throws(() => corkedWrites(WRITE_LOOP + WRITE_LOOP, 'x.js'), /expected 1 of .*found 2/)
})
