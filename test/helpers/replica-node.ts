/**
 * One node's list replica on a real store in a temp folder, and the small builders the
 * ListReplica tests share (test/unit/replica/list-replica-*.test.ts).
 */
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compareStamps, type Stamp } from '../../src/crdt/hlc.js'
import type { Entry } from '../../src/crdt/lww-set.js'
import { StateStore, type StoredEntry } from '../../src/store/state-store.js'
import { ListReplica, type ReplicaOptions } from '../../src/replica/list-replica.js'
import { renderListFile } from '../../src/settings/list-render.js'

export const MINUTE = 60 * 1000
/** The replica's clock skew bound: stamps beyond now + this are clamped. */
export const MAX_SKEW_MS = 5 * MINUTE
/** The node id of the replica under test. */
export const NODE = 'node-a'
/** The dataset most tests use. */
export const WL = 'whitelist'

/**
 * One node's data folder in a temp dir, with a wall clock the test moves by hand. Everything it
 * opens is closed and the folder removed when the test ends, also when it fails.
 */
export class Node {
  wallMs = 1_700_000_000_000
  store!: StateStore
  replica!: ListReplica
  private readonly opened: StateStore[] = []

  private constructor (readonly dir: string) {}

  static async create (t: TestContext, opts: ReplicaOptions = {}): Promise<Node> {
    const dir = await mkdtemp(join(tmpdir(), 'spamsync-list-replica-'))
    const node = new Node(dir)
    t.after(async () => {
      try {
        for (const store of node.opened) await store.close()
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })
    await node.start(opts)
    return node
  }

  /** Opens the store and loads the replica, as the agent does at start (or as export does). */
  async start (opts: ReplicaOptions = {}): Promise<void> {
    this.store = await StateStore.open(this.dir)
    this.opened.push(this.store)
    this.replica = await ListReplica.load(this.store, NODE, () => this.wallMs, MAX_SKEW_MS, opts)
  }

  /** Closes the store and starts again from disk. */
  async restart (opts: ReplicaOptions = {}): Promise<void> {
    await this.store.close()
    await this.start(opts)
  }
}

/** A settings file's text as the scanner hands it over: one `key value` line per entry. */
export const file = (...lines: Array<[string, string]>): string => lines.map(([key, value]) => (value === '' ? key : `${key} ${value}`) + '\n').join('')

/** Entries as key -> value, as the replica's desired() gives them. */
export const entries = (...lines: Array<[string, string]>): Map<string, string> => new Map(lines)

/** The text a write of the replica's present entries puts into a new file. */
export const written = (node: Node): string => renderListFile(null, node.replica.desired(WL))

/** A remote entry as it arrives from a peer or an archive. */
export const remote = (key: string, value: string, stamp: Stamp, present = true): Entry => ({ key, value, present, stamp })

/** The keys of entries, in order. */
export const keysOf = (entries: Iterable<StoredEntry>): string[] => [...entries].map(e => e.key)

/** Fails unless `later` sorts after `earlier`. */
export function assertNewer (later: Stamp, earlier: Stamp): void {
  assert.ok(compareStamps(later, earlier) > 0, `${JSON.stringify(later)} should be newer than ${JSON.stringify(earlier)}`)
}
