/**
 * The election's term, in a small file of the data folder written synchronously (temp file,
 * fsync, rename), so it is durable before the election acts in it. A term must never go
 * backwards across a restart: a node that forgot its term could start one that was already
 * used, so anything but a missing file is an error at start, not a term of 0.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TermFileError } from '../errors.js'
import { MAX_TERM } from '../election/state.js'

/** Where the term of the node with data folder `dataDir` is kept. */
export function termFile (dataDir: string): string {
  return join(dataDir, 'term')
}

/**
 * The persisted term: 0 when there is no file yet; a term past MAX_TERM (written before the cap
 * existed) reads as the cap, never lower. A file that cannot be read or does not hold a term
 * is a TermFileError.
 */
export function readTerm (dataDir: string): number {
  const path = termFile(dataDir)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err: any) {
    if (err?.code === 'ENOENT') return 0
    throw new TermFileError(`cannot read the term file ${path}: ${err?.code ?? err}`, { cause: err })
  }
  const n = Number(text.trim())
  if (text.trim() === '' || !Number.isInteger(n) || n < 0) {
    throw new TermFileError(`the term file ${path} holds ${JSON.stringify(text.slice(0, 40))}, not a term (set it to the cluster's term from spamsync status on another node)`)
  }
  return Math.min(n, MAX_TERM)
}

/** Stores `term` durably before returning. */
export function writeTerm (dataDir: string, term: number): void {
  const path = termFile(dataDir)
  const tmp = path + '.tmp'
  writeFileSync(tmp, `${term}\n`)
  const fd = openSync(tmp, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
}
