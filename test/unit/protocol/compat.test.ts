import { test } from 'node:test'
import assert from 'node:assert/strict'
import { incompatibility, parseUserAgent, LOCAL_VERSIONS } from '../../../src/protocol/compat.js'

const local = { protocolVersion: 1, schemaVersion: 1, agentVersion: '1.2.0' }

test('a peer with the same protocol and schema is compatible', () => {
  assert.equal(incompatibility({ ...local, agentVersion: '1.3.0' }, false, local), null)
})

test('another protocol major is refused, naming both versions', () => {
  assert.equal(incompatibility({ ...local, protocolVersion: 2 }, false, local), 'protocol 2 (this node speaks 1)')
})

test('another settings schema is refused, naming both versions', () => {
  assert.equal(incompatibility({ ...local, schemaVersion: 3 }, false, local), 'settings schema 3 (this node has 1)')
})

test('strictVersion refuses any other agent version, naming both', () => {
  assert.equal(incompatibility({ ...local, agentVersion: '1.2.1' }, true, local), 'agent 1.2.1 (strictVersion requires 1.2.0)')
  assert.equal(incompatibility(local, true, local), null)
})

test('the user agent this build sends parses back to its own versions', async () => {
  const { userAgent } = await import('../../../src/net/libp2p-node.js')
  assert.deepEqual(parseUserAgent(userAgent()), { ...LOCAL_VERSIONS })
})

test('a user agent of anything but spamsync is not read as versions', () => {
  assert.equal(parseUserAgent('js-libp2p/3.0.0 node/24'), null)
  assert.equal(parseUserAgent(undefined), null)
  assert.equal(parseUserAgent('spamsync/1.0 protocol/x schema/1'), null)
})
