/**
 * The master's signature on its beacon (Beacon field 25), so a member can relay the master's
 * heartbeat and the receiver still knows it is the master's word (election-v1.md, "Relayed
 * heartbeat"). Ed25519 with node:crypto: a node id (an Ed25519 peer id) holds its public key, so
 * nothing is exchanged beforehand. The signature covers every byte of the frame before it, and
 * its field must be the frame's last, so no byte a relay adds or changes goes unchecked.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'

/** Length of an Ed25519 signature. */
export const SIGNATURE_BYTES = 64

/** Beacon field 25 (length-delimited) and the length of a 64-byte value: what precedes the signature at the frame's end. */
const SIGNATURE_FIELD = Uint8Array.of(0xca, 0x01, SIGNATURE_BYTES)

/** Most public keys kept decoded: a cluster's masters, which made-up ids cannot grow past this. */
export const MAX_KEYS = 1024

/** DER prefix of a PKCS#8 Ed25519 private key, before its 32-byte seed (RFC 8410). */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')

/** DER prefix of an SPKI Ed25519 public key, before its 32 bytes (RFC 8410). */
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex')

/** Signs bytes with this node's key. */
export type BeaconSigner = (data: Uint8Array) => Uint8Array

/** A signer for libp2p's raw Ed25519 private key (the 32-byte seed, then the public key). */
export function ed25519Signer (raw: Uint8Array): BeaconSigner {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, raw.subarray(0, 32)]), format: 'der', type: 'pkcs8' })
  return (data) => sign(null, data, key)
}

/** The frame of `unsigned` (an encoded Beacon without field 25) signed by `signer`. */
export function signedFrame (unsigned: Uint8Array, signer: BeaconSigner): Uint8Array {
  return Buffer.concat([unsigned, SIGNATURE_FIELD, signer(unsigned)])
}

/**
 * The bytes `signature` covers in `frame`: everything before the signature field, which must be
 * the frame's last field; null when it is not.
 */
export function signedPart (frame: Uint8Array, signature: Uint8Array): Uint8Array | null {
  const head = frame.byteLength - SIGNATURE_BYTES - SIGNATURE_FIELD.byteLength
  if (signature.byteLength !== SIGNATURE_BYTES || head < 0) return null
  const tail = frame.subarray(head)
  if (!Buffer.from(tail.subarray(0, SIGNATURE_FIELD.byteLength)).equals(SIGNATURE_FIELD)) return null
  if (!Buffer.from(tail.subarray(SIGNATURE_FIELD.byteLength)).equals(signature)) return null
  return frame.subarray(0, head)
}

/** Checks signatures against the key a node id holds, decoding each id's key once. */
export class SignatureCheck {
  /** Decoded keys by node id; null for an id that holds no Ed25519 key. */
  private readonly keys = new Map<string, KeyObject | null>()

  /** Whether `signature` over `data` is `nodeId`'s; false for an id that is no Ed25519 peer id. */
  verify (nodeId: string, data: Uint8Array, signature: Uint8Array): boolean {
    const key = this.key(nodeId)
    return key !== null && verify(null, data, key, signature)
  }

  private key (nodeId: string): KeyObject | null {
    let key = this.keys.get(nodeId)
    if (key === undefined) {
      key = publicKeyOf(nodeId)
      if (this.keys.size >= MAX_KEYS) this.keys.clear()
      this.keys.set(nodeId, key)
    }
    return key
  }
}

/** The Ed25519 public key node id `nodeId` holds, or null. */
function publicKeyOf (nodeId: string): KeyObject | null {
  let raw: Uint8Array | undefined
  try {
    const id = peerIdFromString(nodeId)
    raw = id.type === 'Ed25519' ? id.publicKey.raw : undefined
  } catch {
    // Not a peer id (a made-up id in a hostile beacon): it holds no key, so nothing it signs counts.
    return null
  }
  return raw === undefined ? null : createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: 'der', type: 'spki' })
}
