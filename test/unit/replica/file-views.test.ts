/**
 * The file views of a replica while the agent is idle (file-views.ts): a large view's text is let
 * go once unused and read back from the store, checked, when next needed; the changes a scan
 * stamps are the same as with the text held.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { StoreFormatError } from '../../../src/errors.js'
import { MIN_RELEASED_TEXT, SETTLE_MS } from '../../../src/replica/file-views.js'
import { SplicedText } from '../../../src/settings/spliced-text.js'
import type { ListReplica } from '../../../src/replica/list-replica.js'
import { encodeFileText } from '../../../src/settings/settings-file.js'
import { fileViewName } from '../../../src/store/state-store.js'
import { keysOf, Node, WL } from '../../helpers/replica-node.js'

/** A list longer than MIN_RELEASED_TEXT. */
const BIG = Array.from({ length: Math.ceil(MIN_RELEASED_TEXT / 16) }, (_, i) => `host-${i}.example\n`).join('')

/** Waits until the dataset's view is let go (fails after `ms`). */
async function untilReleased (replica: ListReplica, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !replica.currentFileView(WL).released;) {
    if (Date.now() > end) assert.fail(`the file view was not let go within ${ms} ms`)
    await sleep(5)
  }
}

describe('FileViews', () => {
  test('lets go of a large view once unused for viewHoldMs', async (t) => {
    const node = await Node.create(t, { viewHoldMs: 20 })
    await node.replica.applyScan(WL, BIG)
    assert.equal(node.replica.currentFileView(WL).released, false)
    await untilReleased(node.replica)
  })

  test('keeps a view shorter than MIN_RELEASED_TEXT', async (t) => {
    const node = await Node.create(t, { viewHoldMs: 1 })
    await node.replica.applyScan(WL, 'a.example\n')
    await sleep(100)
    assert.equal(node.replica.currentFileView(WL).released, false)
  })

  test('lets none go while a task holds the views', async (t) => {
    const node = await Node.create(t, { viewHoldMs: 5 })
    await node.replica.applyScan(WL, BIG)
    await node.replica.holdingFileViews(async () => {
      await sleep(100)
      assert.equal(node.replica.currentFileView(WL).released, false)
    })
    await untilReleased(node.replica)
  })

  test('a scan after the view was let go stamps the edit as with it held', async (t) => {
    const node = await Node.create(t, { viewHoldMs: 5 })
    await node.replica.applyScan(WL, BIG)
    await untilReleased(node.replica)
    const edited = BIG.replace('host-5.example\n', '').replace('host-9.example\n', 'host-9.example why\n') + 'new.example\n'
    const changed = await node.replica.applyScan(WL, edited)
    assert.deepEqual(keysOf(changed).sort(), ['host-5.example', 'host-9.example', 'new.example'])
    assert.equal(node.replica.get(WL, 'host-5.example')?.present, false)
    assert.equal(node.replica.get(WL, 'host-9.example')?.value, 'why')
    assert.equal((await node.replica.fileView(WL)).text, edited)
  })

  test('an unchanged text after the view was let go is no change', async (t) => {
    const node = await Node.create(t, { viewHoldMs: 5 })
    await node.replica.applyScan(WL, BIG)
    await untilReleased(node.replica)
    const seq = node.replica.changeSeq
    assert.deepEqual(await node.replica.applyScan(WL, BIG), [])
    assert.equal(node.replica.changeSeq, seq)
  })

  test('reads back the view a restart loaded from its stored patches', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, BIG)
    const edited = BIG + 'new.example\n'
    await node.replica.applyScan(WL, edited)
    await node.restart({ viewHoldMs: 5 })
    await untilReleased(node.replica)
    assert.equal((await node.replica.fileView(WL)).text, edited)
  })

  test('refuses a stored view that is not the text let go, and stamps nothing', async (t) => {
    const node = await Node.create(t, { viewHoldMs: 5 })
    await node.replica.applyScan(WL, BIG)
    await untilReleased(node.replica)
    await node.store.write({ blobs: [{ name: fileViewName(WL), value: encodeFileText(BIG.replace('host-1.', 'host-x.')) }] })
    const seq = node.replica.changeSeq
    await assert.rejects(node.replica.applyScan(WL, BIG + 'new.example\n'), StoreFormatError)
    assert.equal(node.replica.changeSeq, seq)
    assert.equal(node.replica.get(WL, 'new.example'), undefined)
  })

  test('a scan given its edit\'s inserted part keeps the view read from pieces, made one string once unused for SETTLE_MS', async (t) => {
    const node = await Node.create(t)
    await node.replica.applyScan(WL, BIG)
    const from = node.replica.currentFileView(WL).text
    const inserted = 'new.example\n'
    const text = new SplicedText(from, from.length, from.length, inserted).whole
    const changed = await node.replica.applyScan(WL, text, undefined, undefined, { from, start: from.length, oldEnd: from.length, newEnd: text.length, inserted })
    assert.deepEqual(keysOf(changed), ['new.example'])
    const reader = node.replica.currentFileView(WL).reader
    assert.ok(reader instanceof SplicedText && !reader.settled)
    for (const end = Date.now() + SETTLE_MS + 5000; !reader.settled;) {
      if (Date.now() > end) assert.fail('the view read from pieces was not made one string')
      await sleep(20)
    }
    assert.equal(node.replica.currentFileView(WL).text, BIG + inserted)
  })
})
