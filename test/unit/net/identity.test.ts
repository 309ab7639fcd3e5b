import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { newEd25519Key } from '../../../src/net/identity.js'

describe('newEd25519Key', () => {
  test('stores a key libp2p reads, with the peer id libp2p derives from it', async () => {
    for (let i = 0; i < 20; i++) {
      const { protobuf, nodeId } = newEd25519Key()
      const key = privateKeyFromProtobuf(Buffer.from(protobuf, 'base64'))
      assert.equal(key.type, 'Ed25519')
      assert.equal(peerIdFromPrivateKey(key).toString(), nodeId)
      const data = Buffer.from(`message ${i}`)
      assert.ok(await key.publicKey.verify(data, await key.sign(data)), 'the stored public key belongs to the stored seed')
    }
  })

  test('makes a new key each time', () => {
    assert.notEqual(newEd25519Key().nodeId, newEd25519Key().nodeId)
  })
})
