/**
 * SettingsFolder with its file views let go while idle (replica/file-views.ts): scans and writes
 * give the same files, byte for byte, as with the views held; an unchanged file costs no read-back.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { openLocalState, type LocalState } from '../../../src/local-state.js'
import { MIN_RELEASED_TEXT } from '../../../src/replica/file-views.js'
import type { Entry } from '../../../src/crdt/lww-set.js'

const BL = 'blacklist'

/** A list longer than MIN_RELEASED_TEXT with a comment, a bad line, a duplicate, CRLF ends and a line that is not UTF-8. */
const BYTES = Buffer.concat([
  Buffer.from('# operator notes\r\nnot a key!\r\n'),
  Buffer.from(Array.from({ length: Math.ceil(MIN_RELEASED_TEXT / 16) }, (_, i) => `host-${i}.example\r\n`).join('')),
  Buffer.from([0x62, 0xff, 0x2e, 0x65, 0x78, 0x0d, 0x0a]),
  Buffer.from('host-3.example\r\ncafé.example  # ünïcode\r\n')
])

/** A node's local state in a fresh root whose settings folder holds BYTES, closed and removed when the test ends. */
async function node (t: TestContext, viewHoldMs?: number): Promise<{ dir: string, state: LocalState }> {
  const root = await mkdtemp(join(tmpdir(), 'spamsync-folder-idle-'))
  const dir = join(root, 'settings')
  const state = await openLocalState({ dataDir: join(root, 'data'), settingsDir: dir, maxSkewMs: 60_000 }, Date.now, { viewHoldMs })
  t.after(async () => {
    await state.close()
    await rm(root, { recursive: true, force: true })
  })
  await writeFile(join(dir, 'blacklist.txt'), BYTES)
  // Written a while ago: a scan records its signature (a file as new as its read is read again).
  await utimes(join(dir, 'blacklist.txt'), new Date(Date.now() - 10_000), new Date(Date.now() - 10_000))
  await state.folder.scan()
  return { dir, state }
}

async function untilReleased (state: LocalState): Promise<void> {
  for (const end = Date.now() + 5000; !state.replica.currentFileView(BL).released;) {
    if (Date.now() > end) assert.fail('the file view was not let go')
    await sleep(5)
  }
}

// An entry as the master would send it: stamped by another node, after the scan.
function remote (key: string, present = true): Entry {
  return { key, value: '', present, stamp: { wallMs: Date.now(), counter: 0, nodeId: 'other' } }
}

describe('SettingsFolder with its file views let go', () => {
  test('writes merged entries into the file byte for byte as with the view held', async (t) => {
    const idle = await node(t, 5)
    const held = await node(t)
    await untilReleased(idle.state)
    for (const { state } of [idle, held]) {
      await state.replica.merge(BL, [remote('new.example'), remote('host-7.example', false)], { synced: true })
      assert.equal(await state.folder.write(BL), true)
    }
    const written = await readFile(join(idle.dir, 'blacklist.txt'))
    assert.deepEqual(written, await readFile(join(held.dir, 'blacklist.txt')))
    assert.ok(written.includes('\nnew.example\r\n'))
    assert.ok(!written.includes('\nhost-7.example\r\n'))
    assert.ok(written.includes(Buffer.from([0x62, 0xff, 0x2e])))
  })

  test('a scan of the unchanged file reads neither the file nor the view back', async (t) => {
    const { state } = await node(t, 5)
    await untilReleased(state)
    const { changed } = await state.folder.scan()
    assert.equal(changed.size, 0)
    assert.equal(state.replica.currentFileView(BL).released, true)
  })

  test('a scan of an edited file stamps the edit as with the view held', async (t) => {
    const { dir, state } = await node(t, 5)
    await untilReleased(state)
    await writeFile(join(dir, 'blacklist.txt'), Buffer.concat([BYTES, Buffer.from('added.example\r\n')]).toString('latin1').replace('host-9.example\r\n', ''), 'latin1')
    const { changed } = await state.folder.scan()
    assert.deepEqual(changed.get(BL)?.map(e => [e.key, e.present]).sort(), [['added.example', true], ['host-9.example', false]])
  })

  test('status keeps the bad lines of a view let go', async (t) => {
    const idle = await node(t, 5)
    const held = await node(t)
    await untilReleased(idle.state)
    assert.deepEqual(idle.state.folder.invalid.get(BL), held.state.folder.invalid.get(BL))
    assert.equal(idle.state.folder.invalid.get(BL)?.invalidCount, 3)
    assert.equal(idle.state.replica.currentFileView(BL).released, true)
  })
})
