/**
 * The start-up check of the settings folder: an agent that cannot write it could never apply a
 * version, so it refuses to start with one clear line rather than retry and fail every heartbeat.
 */
import { randomBytes } from 'node:crypto'
import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { FileAccessError, errorMessage } from '../errors.js'

/** Throws FileAccessError unless a file can be created and removed in `dir`. */
export async function checkWritableFolder (dir: string): Promise<void> {
  // A name no settings file and no temp file of atomic-write.ts can have.
  const probe = join(dir, `.spamsync-write-check-${process.pid}-${randomBytes(6).toString('hex')}`)
  try {
    const fh = await open(probe, 'wx', 0o600)
    await fh.close()
    await rm(probe)
  } catch (err: any) {
    throw new FileAccessError(`settings folder ${dir} is not writable (${typeof err?.code === 'string' ? err.code : errorMessage(err)}): the agent writes the list files there; fix its owner or permissions`, { cause: err })
  }
}
