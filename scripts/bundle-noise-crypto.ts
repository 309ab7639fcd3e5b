/**
 * Stands in, in the bundle only (scripts/bundle.ts), for the two WebAssembly packages that
 * @chainsafe/libp2p-noise imports: @chainsafe/as-chacha20poly1305 and @chainsafe/as-sha256. Noise
 * uses them for messages under 1,200 bytes and Node's OpenSSL for the rest; loading them
 * instantiates their wasm at import, which brought V8's wasm compilers in: about 10 MB of an
 * idle agent's RSS. Here the same calls (what noise uses of their API, nothing more) go to
 * node:crypto, the implementation noise already trusts for larger messages.
 */
import { createCipheriv, createDecipheriv, createHash, createSecretKey, type KeyObject } from 'node:crypto'

/** Bytes of the Poly1305 tag at the end of a sealed message. */
const TAG_LENGTH = 16

/**
 * Each key as a KeyObject, by the array noise holds it in, with a copy of its bytes. A cipher made
 * from a KeyObject costs a third of one made from the key's bytes (11 against 34-43 us a
 * 300-byte message, node 24): node:crypto turns raw bytes into a key on every call, and the
 * cipher calls were a fifth of an idle agent's CPU. The copy is compared at each use, so a key
 * array changed in place is never sealed with an old key; an entry goes with its array.
 */
const keyObjects = new WeakMap<Uint8Array, { bytes: Buffer, key: KeyObject }>()

/** `key` as a KeyObject, made once per key array and its bytes. */
function secretKey (key: Uint8Array): KeyObject {
  const held = keyObjects.get(key)
  if (held !== undefined && held.bytes.equals(key)) return held.key
  const bytes = Buffer.from(key)
  const made = createSecretKey(bytes)
  keyObjects.set(key, { bytes, key: made })
  return made
}

/** as-chacha20poly1305's wasm context; node:crypto needs none. */
export function newInstance (): object {
  return {}
}

/** ChaCha20-Poly1305 (RFC 8439) as as-chacha20poly1305 offers it: seal gives ciphertext and tag, open gives null when the tag does not match. */
export class ChaCha20Poly1305 {
  /** The context is as-chacha20poly1305's; unused. */
  constructor (readonly ctx: object) {}

  seal (key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, associatedData?: Uint8Array): Uint8Array {
    const cipher = createCipheriv('chacha20-poly1305', secretKey(key), nonce, { authTagLength: TAG_LENGTH })
    if (associatedData !== undefined) cipher.setAAD(associatedData, { plaintextLength: plaintext.byteLength })
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
  }

  open (key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, associatedData?: Uint8Array): Uint8Array | null {
    if (sealed.byteLength < TAG_LENGTH) return null
    const decipher = createDecipheriv('chacha20-poly1305', secretKey(key), nonce, { authTagLength: TAG_LENGTH })
    const text = sealed.subarray(0, sealed.byteLength - TAG_LENGTH)
    if (associatedData !== undefined) decipher.setAAD(associatedData, { plaintextLength: text.byteLength })
    decipher.setAuthTag(sealed.subarray(sealed.byteLength - TAG_LENGTH))
    try {
      return Buffer.concat([decipher.update(text), decipher.final()])
    } catch {
      // A tag that does not match: as-chacha20poly1305 answers null, and noise throws its own error.
      return null
    }
  }
}

/** SHA-256 of `data`, as as-sha256's digest. */
export function digest (data: Uint8Array): Uint8Array {
  return createHash('sha256').update(data).digest()
}
