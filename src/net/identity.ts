/**
 * The node's identity: a libp2p Ed25519 key kept in the store, so the node id (its peer id) is
 * stable across restarts and the same id stamps its edits and names it on the network.
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import type { StateStore } from '../store/state-store.js'

/** Meta key of the private key (base64 protobuf). */
const META_PEER_KEY = 'peerKey'

/** The node's key and the id derived from it. */
export interface Identity {
  privateKey: PrivateKey
  nodeId: string
}

/** Loads the node's key from the store, creating it on first start. */
export async function loadOrCreateIdentity (store: StateStore): Promise<Identity> {
  const stored = await store.getMeta<string>(META_PEER_KEY)
  let privateKey: PrivateKey
  if (stored === undefined) {
    privateKey = await generateKeyPair('Ed25519')
    await store.write({ meta: { [META_PEER_KEY]: Buffer.from(privateKeyToProtobuf(privateKey)).toString('base64') } })
  } else {
    privateKey = privateKeyFromProtobuf(Buffer.from(stored, 'base64'))
  }
  return { privateKey, nodeId: peerIdFromPrivateKey(privateKey).toString() }
}
