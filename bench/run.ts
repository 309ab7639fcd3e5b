/**
 * Runs every benchmark in turn (`npm run bench`). Each prints its own JSON and table.
 */
import { main as local } from './local.js'

try {
  await local()
} catch (err: any) {
  process.stderr.write(`${err?.stack ?? err}\n`)
  process.exitCode = 1
}
