/**
 * What a dialer without the cluster key learns, done by hand: multistream-select to `/noise`,
 * Noise XX message 1, then message 2 of the node's answer decrypted without checking its tag.
 * The prologue (from the cluster key) enters only the handshake hash, the tag's associated
 * data; the keys come from Diffie-Hellman alone. So the keyless dialer reads the node's
 * identity key (its node id) and its stream muxers, as the README's Security model says, and
 * can go no further: the tag, checked with the handshake hash, verifies only with the prologue.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { createDecipheriv, createHash, createHmac, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { generateKeyPair, publicKeyFromProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { createSpamsyncNode } from '../../../src/net/libp2p-node.js'
import { generateClusterKey, noisePrologue } from '../../../src/net/cluster-key.js'

/** Reads exactly `n` bytes from the socket. */
function reader (socket: Socket): (n: number) => Promise<Buffer> {
  let buffered = Buffer.alloc(0)
  let wake: (() => void) | null = null
  socket.on('data', (d: Buffer) => { buffered = Buffer.concat([buffered, d]); wake?.() })
  socket.on('close', () => { wake?.() })
  return async (n) => {
    while (buffered.length < n) {
      if (socket.destroyed) throw new Error(`socket closed with ${buffered.length} of ${n} bytes`)
      await new Promise<void>(resolve => { wake = resolve })
    }
    const out = buffered.subarray(0, n)
    buffered = buffered.subarray(n)
    return out
  }
}

function varint (n: number): Buffer {
  const out: number[] = []
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n >>>= 7 }
  out.push(n)
  return Buffer.from(out)
}

async function readVarint (read: (n: number) => Promise<Buffer>): Promise<number> {
  let n = 0
  for (let shift = 0; ; shift += 7) {
    const b = (await read(1))[0]
    n |= (b & 0x7f) << shift
    if (b < 0x80) return n
  }
}

/** One multistream-select line, length-prefixed. */
const line = (text: string): Buffer => { const b = Buffer.from(text + '\n'); return Buffer.concat([varint(b.length), b]) }

/** Noise's HKDF with two outputs (HMAC-SHA256): the new chaining key and the cipher key. */
function mixKey (ck: Buffer, ikm: Buffer): { ck: Buffer, k: Buffer } {
  const temp = createHmac('sha256', ck).update(ikm).digest()
  const out1 = createHmac('sha256', temp).update(Buffer.from([1])).digest()
  const out2 = createHmac('sha256', temp).update(Buffer.concat([out1, Buffer.from([2])])).digest()
  return { ck: out1, k: out2 }
}

/** ChaCha20-Poly1305's ciphertext without its tag, decrypted (nonce 0): the stream cipher from block 1. */
function decryptUnchecked (k: Buffer, ciphertext: Buffer): Buffer {
  const iv = Buffer.alloc(16)
  iv.writeUInt32LE(1, 0)
  return createDecipheriv('chacha20', k, iv).update(ciphertext.subarray(0, ciphertext.length - 16))
}

function x25519Public (raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' })
}

/** Fields of a protobuf message: field number to the length-delimited values. */
function protobufFields (bytes: Buffer): Map<number, Buffer[]> {
  const fields = new Map<number, Buffer[]>()
  let i = 0
  const varintAt = (): number => { let n = 0; let shift = 0; let b; do { b = bytes[i++]; n += (b & 0x7f) * 2 ** shift; shift += 7 } while (b >= 0x80); return n }
  while (i < bytes.length) {
    const tag = varintAt()
    assert.equal(tag & 7, 2, 'every field of the handshake payload is length-delimited')
    const len = varintAt()
    fields.set(tag >> 3, [...(fields.get(tag >> 3) ?? []), bytes.subarray(i, i + len)])
    i += len
  }
  return fields
}

test('a dialer without the cluster key reads the node id and muxers from Noise XX message 2, and no further', { timeout: 30_000 }, async (t) => {
  const clusterKey = generateClusterKey()
  const node = await createSpamsyncNode({ privateKey: await generateKeyPair('Ed25519'), clusterKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false })
  t.after(async () => { await node.stop() })
  const parts = node.getMultiaddrs()[0].getComponents()
  const socket = connect(Number(parts.find(c => c.name === 'tcp')?.value), parts.find(c => c.name === 'ip4')?.value)
  t.after(() => { socket.destroy() })
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  const read = reader(socket)

  socket.write(Buffer.concat([line('/multistream/1.0.0'), line('/noise')]))
  for (const want of ['/multistream/1.0.0', '/noise']) {
    assert.equal((await read(await readVarint(read))).toString(), want + '\n')
  }

  // Message 1: the ephemeral key in the clear, no payload; each message has a 2-byte length.
  const e = generateKeyPairSync('x25519')
  const ePublic = Buffer.from(e.publicKey.export({ format: 'jwk' }).x as string, 'base64url')
  socket.write(Buffer.concat([Buffer.from([0, 32]), ePublic]))
  const msg2 = await read((await read(2)).readUInt16BE(0))

  // Message 2 is re, then s (32 bytes + tag), then the payload (+ tag). The chaining key starts
  // as the protocol name (32 bytes, so used as it is) and never sees the prologue.
  const re = msg2.subarray(0, 32)
  const protocolName = Buffer.from('Noise_XX_25519_ChaChaPoly_SHA256')
  const { ck, k } = mixKey(protocolName, diffieHellman({ privateKey: e.privateKey, publicKey: x25519Public(re) }))
  const sealedS = msg2.subarray(32, 80)
  const rs = decryptUnchecked(k, sealedS)

  // The tag of s covers the handshake hash: it verifies only with the cluster key's prologue.
  const tagVerifies = (prologue: Uint8Array): boolean => {
    let h = protocolName
    for (const part of [prologue, ePublic, Buffer.alloc(0), re]) h = createHash('sha256').update(h).update(part).digest()
    const d = createDecipheriv('chacha20-poly1305', k, Buffer.alloc(12), { authTagLength: 16 })
    d.setAAD(h, { plaintextLength: 32 })
    d.setAuthTag(sealedS.subarray(32))
    d.update(sealedS.subarray(0, 32))
    try { d.final(); return true } catch { return false }
  }
  assert.equal(tagVerifies(noisePrologue(clusterKey)), true, 'with the key the handshake would go on')
  assert.equal(tagVerifies(new Uint8Array(0)), false, 'without it, it cannot')

  // The payload's key comes from Diffie-Hellman with s alone: readable all the same.
  const payloadKey = mixKey(ck, diffieHellman({ privateKey: e.privateKey, publicKey: x25519Public(rs) })).k
  const payload = protobufFields(decryptUnchecked(payloadKey, msg2.subarray(80)))

  const identityKey = payload.get(1)?.[0]
  assert.ok(identityKey !== undefined, 'the payload holds an identity key')
  assert.equal(peerIdFromPublicKey(publicKeyFromProtobuf(identityKey)).toString(), node.peerId.toString(), 'the node id, read without the key')
  const extensions = protobufFields(payload.get(4)?.[0] ?? Buffer.alloc(0))
  assert.deepEqual((extensions.get(2) ?? []).map(b => b.toString()), ['/yamux/1.0.0'], 'the stream muxers')
})
