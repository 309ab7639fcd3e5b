/**
 * The node's identity: a libp2p Ed25519 key kept in the store, so the node id (its peer id) is
 * stable across restarts and the same id stamps its edits and names it on the network.
 *
 * The node id is stored next to the key: deriving it loads libp2p's crypto (a fifth of a second
 * of module loading), which commands like export and import, that only need the id, skip.
 */
import { generateKeyPairSync } from 'node:crypto'
import type { PrivateKey } from '@libp2p/interface'
import { StoreFormatError } from '../errors.js'
import type { StateStore } from '../store/state-store.js'

/** Meta key of the private key (base64 protobuf). */
const META_PEER_KEY = 'peerKey'
/** Meta key of the node id derived from it. */
const META_NODE_ID = 'nodeId'

/** The node's id and, for the network, its key. */
export interface Identity {
  nodeId: string
  /** Decodes the private key (and checks that it still gives `nodeId`). */
  privateKey: () => Promise<PrivateKey>
}

/** Loads the node's identity from the store, creating the key on first start. */
export async function loadOrCreateIdentity (store: StateStore): Promise<Identity> {
  const stored = await store.getMeta<string>(META_PEER_KEY)
  const nodeId = await store.getMeta<string>(META_NODE_ID)
  if (stored !== undefined && nodeId !== undefined) {
    return {
      nodeId,
      privateKey: async () => {
        const { key, id } = await decode(stored)
        if (id !== nodeId) throw new StoreFormatError(`the stored node id ${nodeId} does not belong to the stored key (${id})`)
        return key
      }
    }
  }
  if (stored === undefined) {
    // First start: a new key, made with Node's crypto so that a command's first run (an import
    // into a new data folder) does not load libp2p's either.
    const created = newEd25519Key()
    await store.write({ meta: { [META_PEER_KEY]: created.protobuf, [META_NODE_ID]: created.nodeId } })
    return await loadOrCreateIdentity(store)
  }
  // A store written before the id was kept: derive it once and keep it.
  const { key, id } = await decode(stored)
  await store.write({ meta: { [META_NODE_ID]: id } })
  return { nodeId: id, privateKey: async () => key }
}

/**
 * A new Ed25519 key as libp2p stores it (base64 of the PrivateKey protobuf: type 1, then the
 * 32-byte seed and the 32-byte public key) and its peer id (base58btc of the identity multihash
 * of the PublicKey protobuf), which is what libp2p derives from it.
 */
export function newEd25519Key (): { protobuf: string, nodeId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url')
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url')
  const protobuf = Buffer.concat([Buffer.from([0x08, 0x01, 0x12, 0x40]), seed, pub]).toString('base64')
  const publicProtobuf = Buffer.concat([Buffer.from([0x08, 0x01, 0x12, 0x20]), pub])
  return { protobuf, nodeId: base58btc(Buffer.concat([Buffer.from([0x00, publicProtobuf.length]), publicProtobuf])) }
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

function base58btc (bytes: Uint8Array): string {
  let n = 0n
  for (const b of bytes) n = n * 256n + BigInt(b)
  let out = ''
  while (n > 0n) {
    out = BASE58[Number(n % 58n)] + out
    n /= 58n
  }
  for (let i = 0; i < bytes.length && bytes[i] === 0; i++) out = '1' + out
  return out
}

async function decode (stored: string): Promise<{ key: PrivateKey, id: string }> {
  const { privateKeyFromProtobuf } = await import('@libp2p/crypto/keys')
  return await derive(privateKeyFromProtobuf(Buffer.from(stored, 'base64')))
}

async function derive (key: PrivateKey): Promise<{ key: PrivateKey, id: string }> {
  const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
  return { key, id: peerIdFromPrivateKey(key).toString() }
}
