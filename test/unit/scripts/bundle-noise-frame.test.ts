/** The bundle's patch of noise's sealed messages (scripts/bundle-noise-frame.ts): one buffer per message, the same bytes, and loudly when the dependency changed. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { Uint8ArrayList } from 'uint8arraylist'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import { BundlePatchError } from '../../../scripts/bundle-code-unit-sort.js'
import { NOISE_UTILS_FILE, TWO_BUFFERS, noiseFramePlugin, oneBufferMessages } from '../../../scripts/bundle-noise-frame.js'

/** The installed noise utils module's path. */
function utilsPath (): string {
  const index = fileURLToPath(import.meta.resolve('@chainsafe/libp2p-noise'))
  return join(index, '..', 'utils.js')
}

/** A session key and nonce for the tests' seals (noise's own crypto, as the agent's handshake uses it). */
const KEY = new Uint8Array(32).fill(3)
const NONCE = new Uint8Array(12)
const AD = new Uint8Array(0)

/**
 * What noise's encrypting stream hands the socket's stream for one send of `plaintext`, with the
 * module bundled as scripts/bundle.ts bundles it (`patched`) or as it is installed.
 */
async function sentFor (plaintext: Uint8Array | Uint8ArrayList, patched: boolean): Promise<Uint8ArrayList> {
  const dir = mkdtempSync(join(tmpdir(), 'spamsync-noise-frame-'))
  try {
    const out = join(dir, 'utils.mjs')
    await build({ entryPoints: [utilsPath()], outfile: out, bundle: true, format: 'esm', platform: 'node', plugins: patched ? [noiseFramePlugin()] : [], logLevel: 'silent' })
    const { toMessageStream } = await import(pathToFileURL(out).href) as { toMessageStream: (s: unknown, h: unknown) => { sendData: (d: Uint8ArrayList) => unknown } }
    const sent: Uint8ArrayList[] = []
    const socketStream = Object.assign(new EventTarget(), { log: Object.assign(() => {}, { trace: () => {}, error: () => {} }), direction: 'outbound', send: (list: Uint8ArrayList) => { sent.push(list); return true } })
    // Two copies of uint8arraylist are installed; noise's and this test's lists are the same class at run time.
    const handshake = { encrypt: (p: Uint8Array | Uint8ArrayList) => defaultCrypto.chaCha20Poly1305Encrypt(p as Uint8Array, NONCE, AD, KEY) }
    toMessageStream(socketStream, handshake).sendData(plaintext instanceof Uint8Array ? new Uint8ArrayList(plaintext) : plaintext)
    assert.equal(sent.length, 1)
    return sent[0]
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The plaintext in `sent`: each message's 2-byte length, then its sealed bytes, opened. */
function opened (sent: Uint8ArrayList): Uint8Array {
  const bytes = sent.subarray()
  const out = new Uint8ArrayList()
  for (let at = 0; at < bytes.byteLength;) {
    const n = (bytes[at] << 8) | bytes[at + 1]
    out.append(defaultCrypto.chaCha20Poly1305Decrypt(bytes.subarray(at + 2, at + 2 + n), NONCE, AD, KEY).subarray())
    at += 2 + n
  }
  return out.subarray()
}

test('the installed noise module holds the two appends exactly once', () => {
  const source = readFileSync(utilsPath(), 'utf8')
  assert.ok(utilsPath().replaceAll('\\', '/').endsWith('/' + NOISE_UTILS_FILE))
  assert.ok(!oneBufferMessages(source, NOISE_UTILS_FILE).includes(TWO_BUFFERS))
})

test('a sealed yamux frame goes to the socket as one buffer, its 2-byte length first', async () => {
  // A yamux data frame: its 12-byte header and a beacon, as one list (noise's seal then gives a list too).
  const frame = new Uint8ArrayList(new Uint8Array(12).fill(1), new Uint8Array(345).fill(7))
  const sent = await sentFor(frame, true)
  assert.equal([...sent].length, 1)
  assert.deepEqual([...sent.subarray(0, 2)], [(357 + 16) >>> 8, (357 + 16) & 255])
  assert.equal(sent.byteLength, 2 + 357 + 16)
  assert.deepEqual(opened(sent), frame.subarray())
})

test('the bytes sent are those of the unpatched module, a message per 65,519 bytes of plaintext', async () => {
  const large = new Uint8Array(150_000).map((_, i) => i % 251)
  for (const plaintext of [large, new Uint8ArrayList(large.subarray(0, 12), large.subarray(12))]) {
    const [patched, plain] = [await sentFor(plaintext, true), await sentFor(plaintext, false)]
    assert.equal([...patched].length, 3)
    assert.ok([...plain].length >= 6)
    assert.deepEqual(patched.subarray(), plain.subarray())
    assert.deepEqual(opened(patched), large)
  }
})

test('a noise module without the two appends, or with them twice, fails the build', () => {
  assert.throws(() => oneBufferMessages('encrypt() {}', 'x.js'), BundlePatchError)
  assert.throws(() => oneBufferMessages(TWO_BUFFERS + TWO_BUFFERS, 'x.js'), /expected 1 of .*found 2/)
})
