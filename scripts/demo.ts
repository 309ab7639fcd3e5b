/**
 * `npm run demo`: three real agents on 127.0.0.1 (mDNS off, bootstrapped to the first) in a
 * temporary folder; one line is added to a slave's blacklist.txt and the time until it is in
 * every node's file is printed. Everything is stopped and removed at the end, on Ctrl-C and on error.
 */
import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Cluster, waitFor, type AgentProcess } from '../test/helpers/agents.js'

const LINE = 'spammer.demo.example'

async function main (): Promise<void> {
  let cluster: Cluster | null = null
  let cleaning: Promise<void> | null = null
  const cleanup = async (): Promise<void> => {
    cleaning ??= (async () => {
      if (cluster === null) return
      // A clean SIGTERM stop for each agent, then the folder goes.
      await Promise.all(cluster.running().map(async a => await a.stop()))
      await cluster.cleanup()
      console.log(`stopped the agents and removed ${cluster.root}`)
    })()
    await cleaning
  }
  const interrupted = (): void => {
    console.log('\ninterrupted')
    void cleanup().finally(() => process.exit(130))
  }
  process.once('SIGINT', interrupted)
  process.once('SIGTERM', interrupted)
  try {
    cluster = await Cluster.create()
    console.log(`folder: ${cluster.root}`)
    let t0 = Date.now()
    const agents = await cluster.startAll(3)
    console.log(`started 3 agents in ${Date.now() - t0} ms`)
    t0 = Date.now()
    const master = await cluster.waitForOneMaster()
    console.log(`one master elected in ${Date.now() - t0} ms: node${agents.indexOf(master) + 1}`)
    const roles = await Promise.all(agents.map(async a => String((await a.status()).role)))
    const writer = agents.find(a => a !== master) as AgentProcess

    const writerName = `node${agents.indexOf(writer) + 1}`
    console.log(`adding "${LINE}" to ${writerName}'s blacklist.txt`)
    const start = Date.now()
    await appendFile(join(writer.settingsDir, 'blacklist.txt'), `${LINE}\n`)
    const arrived = await Promise.all(agents.map(async a => await waitFor(`the line on ${a.dir}`, async () => {
      return (await a.keys('blacklist')).includes(LINE) ? Date.now() - start : null
    }, 20_000, 10)))

    console.log('')
    console.log('NODE    ROLE     MS UNTIL THE LINE WAS IN blacklist.txt')
    agents.forEach((a, i) => {
      const note = a === writer ? '  (written here)' : ''
      console.log(`${`node${i + 1}`.padEnd(8)}${roles[i].padEnd(9)}${String(arrived[i]).padStart(5)}${note}`)
    })
    console.log('')
  } finally {
    await cleanup()
  }
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
})
