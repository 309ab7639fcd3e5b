/**
 * A part of an open file read whole: readSync may give fewer bytes than asked for, so it is asked
 * again until the part is read or the file ends (settings-file.ts, file-append.ts, file-text.ts).
 */
import { Buffer } from 'node:buffer'
import { readSync } from 'node:fs'

/** Up to `n` bytes of the file open as `fd` from `pos` on, read into `into` (fewer at the file's end). */
export function readAt (fd: number, into: Buffer, pos: number, n = into.length): Buffer {
  let got = 0
  while (got < n) {
    const k = readSync(fd, into, got, n - got, pos + got)
    if (k === 0) break
    got += k
  }
  return into.subarray(0, got)
}
