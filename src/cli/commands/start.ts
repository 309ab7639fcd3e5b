import { loadConfig, CONFIG_KEYS, type FlagKey } from '../../config.js'
import { configFlags, configHelp, configOptions, type Command } from '../command.js'
import { checkBeforeStart } from '../checks.js'
import { compilersWhenBusy, deferredCompilers, processParts } from '../compilers-when-busy.js'
import { collectWhenQuiet } from '../collect-when-quiet.js'
import { leanFlags, workGear } from '../work-gear.js'
import { onLargeWork } from '../../work-ahead.js'
import { trace } from '../../trace.js'

const KEYS = Object.keys(CONFIG_KEYS) as FlagKey[]

/** `spamsync start`: runs the agent until SIGTERM or SIGINT. */
export const startCommand: Command = {
  name: 'start',
  help: `Usage: spamsync start [options]

Runs the agent in the foreground until SIGTERM or SIGINT, which stop it cleanly (an apply in
progress finishes, the store is closed). Settings come from built-in defaults, then --config,
then SPAMSYNC_* environment variables (SPAMSYNC_DATA_DIR, ...), then these flags. Before
anything is written it checks the addresses, that its ports are free, and that a settings
folder or cluster key given explicitly exists (only the defaults, ./settings and
<data-dir>/cluster.key, are made on first start). The Bayes commands and the hook run in
commandDir: relative paths in them are relative to the config file's folder (to the working
folder without one). 'spamsync validate' runs these checks and more without starting.

${configHelp(KEYS)}`,
  options: configOptions(KEYS),
  positionals: [0, 0],
  async run ({ values, stdout, stderr }) {
    const config = await loadConfig({ file: values.config as string | undefined, env: process.env, flags: configFlags(values, KEYS) })
    await checkBeforeStart(config)
    // bin/spamsync.js started node without Sparkplug and Maglev, for the agent to turn them on once it works.
    const deferred = deferredCompilers()
    const compilers = deferred.length > 0 ? compilersWhenBusy(deferred) : null
    // The garbage of the start's first scan, and of each sync after it, collected once the agent is quiet.
    const stopCollecting = collectWhenQuiet()
    // Loaded here, not at the top: libp2p is a second of start-up no other command should pay.
    const { Agent } = await import('../../agent.js')
    const agent = await Agent.start(config)
    compilers?.started()
    // Once started, large work (a list file or archive of hundreds of KB) turns them on before it
    // starts, not up to 2 s into it. Not during the start: a start with the 121k list scanned in
    // their code from its first line kept ~2 MB more of it for good (idle RSS 105.3 against
    // 103.4 MB, bench/footprint.ts, 3 runs, load 16-23), and that scan turns them on anyway.
    const stopHint = compilers === null
      ? null
      : onLargeWork(() => {
        trace('compilers-on')
        for (const c of deferred) processParts().turnOn(c)
        compilers.stop()
        stopHint?.()
      })
    // Large work lifts V8's lean flags until the agent is quiet again; not the start's own scan, as above.
    const gear = workGear(leanFlags())
    const stopGear = onLargeWork(() => { gear.work() })
    stdout(`spamsync ${String(agent.status().agentVersion)} node ${agent.nodeId} started; status: http://${config.httpHost}:${agent.httpPort}/status\n`)
    await new Promise<void>((resolve) => {
      const stop = (signal: string): void => {
        stderr(`spamsync: ${signal}: stopping\n`)
        compilers?.stop()
        stopHint?.()
        stopGear()
        gear.stop()
        stopCollecting()
        agent.stop().then(resolve, (err) => { stderr(`spamsync: stop failed: ${err?.message ?? err}\n`); resolve() })
      }
      process.once('SIGTERM', () => { stop('SIGTERM') })
      process.once('SIGINT', () => { stop('SIGINT') })
    })
    return 0
  }
}
