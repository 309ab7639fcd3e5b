/**
 * The bundle's node:crypto stand-in for noise's WebAssembly crypto (scripts/bundle-noise-crypto.ts)
 * gives the same bytes as the packages it replaces, which the tests load as they are.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import * as wasmChaCha from '@chainsafe/as-chacha20poly1305'
import * as wasmSha256 from '@chainsafe/as-sha256'
import { ChaCha20Poly1305, digest, newInstance } from '../../../scripts/bundle-noise-crypto.js'

const wasm = new wasmChaCha.ChaCha20Poly1305(wasmChaCha.newInstance())
const node = new ChaCha20Poly1305(newInstance())
const key = fc.uint8Array({ minLength: 32, maxLength: 32 })
const nonce = fc.uint8Array({ minLength: 12, maxLength: 12 })
const bytes = fc.uint8Array({ maxLength: 1300 })

test('seal gives the bytes of as-chacha20poly1305, and open gives back the plaintext', () => {
  fc.assert(fc.property(key, nonce, bytes, bytes, (k, n, plaintext, ad) => {
    const sealed = node.seal(k, n, plaintext, ad)
    assert.deepEqual(new Uint8Array(sealed), wasm.seal(k, n, plaintext, ad))
    assert.deepEqual(new Uint8Array(node.open(k, n, sealed, ad) ?? []), plaintext)
  }), { numRuns: 200 })
})

test('open answers null for a message whose tag does not match, as as-chacha20poly1305 does', () => {
  fc.assert(fc.property(key, nonce, bytes, fc.nat(), (k, n, plaintext, at) => {
    const sealed = new Uint8Array(node.seal(k, n, plaintext, new Uint8Array(0)))
    sealed[at % sealed.length] ^= 1
    assert.equal(node.open(k, n, sealed, new Uint8Array(0)), null)
    assert.equal(wasm.open(k, n, sealed, new Uint8Array(0)), null)
  }), { numRuns: 200 })
  assert.equal(node.open(new Uint8Array(32), new Uint8Array(12), new Uint8Array(15)), null)
})

test('digest is as-sha256\'s SHA-256', () => {
  fc.assert(fc.property(bytes, (data) => {
    assert.deepEqual(new Uint8Array(digest(data)), wasmSha256.digest(data))
  }), { numRuns: 200 })
})

test('a key array changed in place seals with its new bytes, not the key it held before', () => {
  const k = new Uint8Array(32).fill(1)
  const n = new Uint8Array(12)
  const plaintext = new Uint8Array([1, 2, 3])
  const before = new Uint8Array(node.seal(k, n, plaintext))
  k.fill(2)
  const after = new Uint8Array(node.seal(k, n, plaintext))
  assert.notDeepEqual(after, before)
  assert.deepEqual(after, wasm.seal(k, n, plaintext))
  assert.deepEqual(new Uint8Array(node.open(k, n, after) ?? []), plaintext)
})
