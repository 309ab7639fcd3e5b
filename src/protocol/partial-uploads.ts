/**
 * The bytes of uploads being received, and of cut-off ones kept for a resume, spilled to files
 * in a folder under the data folder: the master holds one chunk of an upload in memory at a
 * time, not the upload, so cut-off uploads cannot fill its memory (six cut off at 120 MiB took a
 * master that kept them in memory from 113 MB to 941 MB RSS, held after the peer left).
 *
 * Bounded three ways: the bytes of one peer's uploads, counted at their declared size while
 * they are received and at what arrived once cut off (a slave has one upload at a time; a new
 * archive of a peer drops the peer's older cut-off ones); the bytes of all uploads (cut-off ones
 * are dropped oldest first to make room, an upload that still does not fit is refused); and the
 * number of cut-off uploads. A cut-off upload is dropped after `ttlMs` without a resume, by a
 * timer. It is kept when its peer disconnects: a resume after a cut connection is its point.
 */
import { createHash, type Hash } from 'node:crypto'
import { mkdir, open, readFile, readdir, rm, type FileHandle } from 'node:fs/promises'
import { writeSync } from 'node:fs'
import { join } from 'node:path'

/** How long a cut-off upload's bytes are kept for a resume. */
export const PARTIAL_TTL_MS = 10 * 60 * 1000

/** Cut-off uploads kept at once (oldest dropped first). */
export const MAX_PARTIALS = 8

/** File names in the folder end so; anything else there is left alone. */
const SUFFIX = '.part'

/** Limits and folder of the store. */
export interface PartialUploadsOptions {
  /** Folder of the spilled bytes (created 0700; its `.part` files are removed at start and stop). */
  dir: string
  /** Most bytes of one peer's uploads (in flight at their declared size, cut off at what arrived). */
  maxPeerBytes: number
  /** Most bytes of all uploads together, counted as for a peer. */
  maxTotalBytes: number
  ttlMs?: number
  maxPartials?: number
  now?: () => number
  /** A file the pruning timer could not remove. */
  onError: (err: unknown) => void
}

/** One upload's file. */
interface Part {
  id: string
  peer: string
  size: number
  received: number
  touched: number
  /** sha256 of the bytes so far: a resume goes on hashing where the cut left it. */
  hash: Hash
  path: string
  /** Open while a stream receives into it; null while cut off. */
  file: FileHandle | null
}

/** An upload being received: append chunks in order, then complete or cut off. */
export interface Receiving {
  /** Bytes already held (a resume starts here). */
  readonly offset: number
  /**
   * Appends the next chunk to the upload's file, synchronously: the stream has no backpressure
   * towards its reader (libp2p aborts it once 4 MiB wait unread), and a write of a 1 MiB chunk
   * to the page cache takes about as long as hashing it, which the reader does anyway.
   */
  write: (chunk: Uint8Array) => void
  /** All bytes arrived: read back when their sha256 is `sha256`, else null (the file is removed either way). */
  complete: (sha256: Uint8Array) => Promise<Uint8Array | null>
  /** The stream broke: the bytes are kept for a resume (none kept when none arrived or a write failed). */
  cutOff: () => Promise<void>
}

/** Why a new upload gets no room. */
export type NoRoom = 'in flight' | 'peer' | 'total'

/** The store of spilled uploads of one UploadService. */
export class PartialUploads {
  private readonly parts = new Map<string, Part>()
  private readonly ttlMs: number
  private readonly maxPartials: number
  private readonly now: () => number
  private timer: NodeJS.Timeout | null = null
  private nextFile = 0
  /** begin() and prune() run one at a time: both look at the parts and then change them. */
  private tail: Promise<unknown> = Promise.resolve()

  constructor (private readonly opts: PartialUploadsOptions) {
    this.ttlMs = opts.ttlMs ?? PARTIAL_TTL_MS
    this.maxPartials = opts.maxPartials ?? MAX_PARTIALS
    this.now = opts.now ?? Date.now
  }

  /** Creates the folder, removes what an earlier run left (its index died with it), starts the pruning timer. */
  async start (): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true, mode: 0o700 })
    await this.removeFiles()
    // A cut-off upload outlives its TTL by at most a tenth of it.
    this.timer = setInterval(() => { this.prune().catch(this.opts.onError) }, Math.max(1000, this.ttlMs / 10))
    this.timer.unref()
  }

  /** Stops the timer and removes every file. */
  async stop (): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    for (const p of this.parts.values()) await p.file?.close()
    this.parts.clear()
    await this.removeFiles()
  }

  /** Bytes counted against the limits now: of one peer, or of all. */
  bytes (peer?: string): number {
    let n = 0
    for (const p of this.parts.values()) if (peer === undefined || p.peer === peer) n += counted(p)
    return n
  }

  /** Cut-off uploads kept. */
  get kept (): number {
    let n = 0
    for (const p of this.parts.values()) if (p.file === null) n++
    return n
  }

  /** Uploads being received. */
  get receivingCount (): number {
    return this.parts.size - this.kept
  }

  /**
   * Starts receiving upload `id` (a name of its peer, sha256 and size) of `size` bytes from
   * `peer`, or resumes it where a cut-off attempt left it. Returns why not when it is being
   * received already (a retry while the broken stream has not timed out yet) or does not fit.
   */
  async begin (peer: string, id: string, size: number): Promise<Receiving | NoRoom> {
    return await this.serially(async () => await this.beginNow(peer, id, size))
  }

  /** Drops cut-off uploads not resumed within the TTL. */
  async prune (): Promise<void> {
    await this.serially(async () => { await this.pruneNow() })
  }

  private async serially<T> (task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task)
    // The next task waits for this one to settle; its error goes to this caller, through `result`.
    this.tail = Promise.allSettled([result])
    return await result
  }

  private async beginNow (peer: string, id: string, size: number): Promise<Receiving | NoRoom> {
    await this.pruneNow()
    let part = this.parts.get(id)
    if (part?.file !== null && part !== undefined) return 'in flight'
    if (part === undefined) {
      // A slave sends one archive at a time: a new one makes its older cut-off ones useless.
      for (const p of [...this.parts.values()]) if (p.peer === peer && p.file === null) await this.drop(p)
      if (this.bytes(peer) + size > this.opts.maxPeerBytes) return 'peer'
      for (const p of this.oldestCutOff()) {
        if (this.bytes() + size <= this.opts.maxTotalBytes) break
        await this.drop(p)
      }
      if (this.bytes() + size > this.opts.maxTotalBytes) return 'total'
      part = { id, peer, size, received: 0, touched: this.now(), hash: createHash('sha256'), path: join(this.opts.dir, `${this.nextFile++}${SUFFIX}`), file: null }
      part.file = await open(part.path, 'w', 0o600)
    } else {
      part.file = await open(part.path, 'a', 0o600)
    }
    this.parts.set(id, part)
    return this.receiving(part)
  }

  private async pruneNow (): Promise<void> {
    const now = this.now()
    for (const p of [...this.parts.values()]) if (p.file === null && now - p.touched > this.ttlMs) await this.drop(p)
  }

  private receiving (part: Part): Receiving {
    let broken = false
    const close = async (): Promise<void> => {
      const file = part.file
      part.file = null
      await file?.close()
    }
    return {
      offset: part.received,
      write: (chunk) => {
        try {
          for (let done = 0; done < chunk.byteLength;) done += writeSync(part.file!.fd, chunk, done)
        } catch (err) {
          // The file and the hash may now disagree: this upload starts afresh next time.
          broken = true
          throw err
        }
        part.hash.update(chunk)
        part.received += chunk.byteLength
        part.touched = this.now()
      },
      complete: async (sha256) => {
        await close()
        this.parts.delete(part.id)
        try {
          return Buffer.from(sha256).equals(part.hash.digest()) ? await readFile(part.path) : null
        } finally {
          await rm(part.path, { force: true })
        }
      },
      cutOff: async () => {
        await close()
        part.touched = this.now()
        if (broken || part.received === 0) {
          await this.drop(part)
          return
        }
        const cutOff = this.oldestCutOff()
        for (let i = 0; i < cutOff.length - this.maxPartials; i++) await this.drop(cutOff[i])
      }
    }
  }

  /** Cut-off uploads, least recently touched first. */
  private oldestCutOff (): Part[] {
    return [...this.parts.values()].filter(p => p.file === null).sort((a, b) => a.touched - b.touched)
  }

  private async drop (part: Part): Promise<void> {
    if (this.parts.get(part.id) === part) this.parts.delete(part.id)
    await part.file?.close()
    part.file = null
    await rm(part.path, { force: true })
  }

  private async removeFiles (): Promise<void> {
    for (const name of await readdir(this.opts.dir)) if (name.endsWith(SUFFIX)) await rm(join(this.opts.dir, name), { force: true })
  }
}

/** What a part counts against the limits: its declared size while received, what arrived once cut off. */
function counted (p: Part): number {
  return p.file === null ? p.received : p.size
}
