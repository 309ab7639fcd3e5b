/**
 * The initial-sync measure both tools go through: a list file dropped into the first node's
 * folder of a running, settled cluster, timed until every other node's copy holds all of it.
 */
import { rename, stat, writeFile, readFile } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import { sleep } from '../cluster/harness.js'

/** Number of lines of `data` that are neither empty nor a comment: the entry lines of a list file. */
export function entryLines (data: Uint8Array): number {
  let n = 0
  let start = 0
  for (;;) {
    const eol = data.indexOf(0x0a, start)
    const end = eol < 0 ? data.length : eol
    if (end > start && data[start] !== 0x23) n++
    if (eol < 0) return n
    start = eol + 1
  }
}

/**
 * Puts `text` at `file` as an operator drops a file into a folder (`mv` from elsewhere on the
 * same file system): written next to it under a name no tool watches, then renamed over it, so
 * neither tool can read a half-written file.
 */
export async function dropFile (file: string, staging: string, text: string): Promise<void> {
  await writeFile(staging, text)
  await rename(staging, file)
}

/**
 * Polls each file every `everyMs` until it holds at least `lines` entry lines (both tools
 * replace a file by renaming a complete one over it, so such a file is complete); re-reads a
 * file only when its size or time changed. Returns the time since `t0` for each file, null
 * for one that did not get there within `timeoutMs`.
 */
export async function timeUntilAllLines (files: string[], lines: number, t0: number, everyMs: number, timeoutMs: number): Promise<Array<number | null>> {
  return await Promise.all(files.map(async (file) => {
    let seen = ''
    for (;;) {
      const s = await stat(file).catch(() => null)
      const now = performance.now()
      const sig = s === null ? '' : `${s.size}/${s.mtimeMs}/${s.ino}`
      if (sig !== '' && sig !== seen) {
        seen = sig
        const data = await readFile(file).catch(() => null)
        if (data !== null && entryLines(data) >= lines) return now - t0
      }
      if (now - t0 > timeoutMs) return null
      await sleep(everyMs)
    }
  }))
}
