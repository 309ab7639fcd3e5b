/**
 * The node's identity: a libp2p Ed25519 key kept in the store, so the node id (its peer id) is
 * stable across restarts and the same id stamps its edits and names it on the network.
 *
 * The node id is stored next to the key: deriving it loads libp2p's crypto (a fifth of a second
 * of module loading), which commands like export and import, that only need the id, skip.
 */
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
  // First start, or a store written before the id was kept: derive it once and keep it.
  const { generateKeyPair, privateKeyToProtobuf } = await import('@libp2p/crypto/keys')
  const { key, id } = stored === undefined ? await derive(await generateKeyPair('Ed25519')) : await decode(stored)
  const meta: Record<string, string> = { [META_NODE_ID]: id }
  if (stored === undefined) meta[META_PEER_KEY] = Buffer.from(privateKeyToProtobuf(key)).toString('base64')
  await store.write({ meta })
  return { nodeId: id, privateKey: async () => key }
}

async function decode (stored: string): Promise<{ key: PrivateKey, id: string }> {
  const { privateKeyFromProtobuf } = await import('@libp2p/crypto/keys')
  return await derive(privateKeyFromProtobuf(Buffer.from(stored, 'base64')))
}

async function derive (key: PrivateKey): Promise<{ key: PrivateKey, id: string }> {
  const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
  return { key, id: peerIdFromPrivateKey(key).toString() }
}
