/**
 * A forwarded control request (rollback) whose answer quotes text with terminal escapes: the
 * asking node gets the master's named error with the text escaped, so neither its HTTP answer
 * nor its log carries a raw control character.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ControlService, controlRequest } from '../../../src/protocol/control-service.js'
import { NoMasterError, SyncRefusedError, UnknownVersionError } from '../../../src/errors.js'
import { LOCAL_VERSIONS } from '../../../src/protocol/compat.js'
import { keyedNodes } from '../../helpers/keyed-nodes.js'

const HOSTILE = '\x1b[2J\x1b[Hrolled back fine\r\n\u202e'
const ESCAPED = '\\x1b[2J\\x1b[Hrolled back fine\\x0d\\x0a\\u202e'

test('a master\'s refusal with control characters reaches the asking node escaped, under its name', async (t) => {
  const [master, asker] = await keyedNodes(2)
  t.after(async () => { await master.stop(); await asker.stop() })
  const errors = [new UnknownVersionError(HOSTILE), new NoMasterError(HOSTILE), new SyncRefusedError(HOSTILE)]
  let next = 0
  const service = new ControlService(master, { rollback: async () => { throw errors[next++] } }, false)
  await service.start()
  t.after(async () => { await service.stop() })
  await asker.dial(master.getMultiaddrs()[0])
  const ask = async (): Promise<Error> => await controlRequest(asker, master.peerId, { hello: { nodeId: asker.peerId.toString(), ...LOCAL_VERSIONS }, op: 'rollback', version: { term: 1, seq: 1 } }).then(
    () => assert.fail('the request should be refused'), (err: Error) => err)
  const unknown = await ask()
  assert.ok(unknown instanceof UnknownVersionError)
  assert.equal(unknown.message, ESCAPED)
  const noMaster = await ask()
  assert.ok(noMaster instanceof NoMasterError)
  assert.equal(noMaster.message, ESCAPED)
  const refused = await ask()
  assert.ok(refused instanceof SyncRefusedError)
  assert.equal(refused.message, `master ${master.peerId.toString()} refused: ${ESCAPED}`)
})
