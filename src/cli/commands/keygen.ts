import { UsageError } from '../../errors.js'
import { generateClusterKey, writeClusterKey } from '../../net/cluster-key.js'
import type { Command } from '../command.js'

/** `spamsync keygen --out FILE`: a new random cluster key. */
export const keygenCommand: Command = {
  name: 'keygen',
  help: `Usage: spamsync keygen --out FILE

Writes a new random cluster key to FILE (mode 0600; an existing file is never overwritten).
Copy the same file to every server of the cluster: a node without it cannot connect.

  --out FILE                  where to write the key`,
  options: { out: { type: 'string' } },
  positionals: [0, 0],
  async run ({ values, stdout }) {
    const out = values.out
    if (typeof out !== 'string' || out === '') throw new UsageError('--out FILE is required')
    await writeClusterKey(out, generateClusterKey())
    stdout(`wrote cluster key ${out} (mode 0600); copy it to every server of the cluster\n`)
    return 0
  }
}
