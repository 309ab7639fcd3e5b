import { loadConfig, CONFIG_KEYS, type FlagKey } from '../../config.js'
import { SpamsyncError } from '../../errors.js'
import { CHECKS } from '../checks.js'
import { configFlags, configHelp, configOptions, type Command } from '../command.js'

const KEYS = Object.keys(CONFIG_KEYS) as FlagKey[]

/** `spamsync validate`: the checks of a configuration, without starting anything. */
export const validateCommand: Command = {
  name: 'validate',
  help: `Usage: spamsync validate [options]

Reads the configuration as 'start' would (defaults, --config, SPAMSYNC_* environment, flags)
and checks it without starting or writing anything: every key's value, the listen and
bootstrap addresses, the data folder, the settings folder (a given one must exist), the cluster
key (a given one must exist and be a spamsync key) and the program each Bayes command and hook
starts with (found on PATH, or relative to commandDir), and for each output that its folder
is writable (or can be made) and its command's program is found. Prints one line per part, 'ok' or
'FAIL'; exits 1 when any part failed. Ports are not checked: a running agent holds them.

${configHelp(KEYS)}`,
  options: configOptions(KEYS),
  positionals: [0, 0],
  async run ({ values, stdout }) {
    const config = await loadConfig({ file: values.config as string | undefined, env: process.env, flags: configFlags(values, KEYS) })
    stdout(`ok    config       ${values.config === undefined ? '(no file: defaults, environment, flags)' : String(values.config)}\n`)
    let failed = 0
    for (const check of CHECKS) {
      if (!check.inValidate) continue
      try {
        stdout(`ok    ${check.part.padEnd(13)}${await check.run(config)}\n`)
      } catch (err: any) {
        if (!(err instanceof SpamsyncError)) throw err
        failed++
        stdout(`FAIL  ${check.part.padEnd(13)}${err.name}: ${err.message}\n`)
      }
    }
    return failed === 0 ? 0 : 1
  }
}
