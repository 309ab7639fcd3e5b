/**
 * The operator-edit race of issue 13 item 1: a slave applies the master's changes every
 * `masterEveryMs` (the master's operator adds a line to its blacklist that often) while another
 * process appends a line to the slave's blacklist every `appendEveryMs`, as `echo x >> file`
 * does. Every line appended on either side must end up in both files: none may be lost to a
 * sync write that renamed its rendering over the file meanwhile.
 * Used by test/integration/agent/edit-race.test.ts (15 s) and scripts/stress-edits.ts (longer).
 */
import { spawn } from 'node:child_process'
import { appendFile, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { InProcessCluster } from './in-process.js'

/** How long and how fast the race runs. */
export interface EditRaceOptions {
  durationMs: number
  /** Interval of the appends to the slave's file (another process). */
  appendEveryMs: number
  /** Interval of the master's own edits, each one a change the slave applies. */
  masterEveryMs: number
  /**
   * When set, every 7th append waits this long between its open and its write, as a loaded
   * scheduler may make it: the line then reaches a file that writes have replaced meanwhile.
   */
  appendStallMs?: number
  /** Time allowed after the edits stop for both files to hold every line. */
  settleMs?: number
}

/** What the race did and lost. */
export interface EditRaceResult {
  /** Lines appended to the slave's file. */
  appended: number
  /** Lines the master's operator added. */
  masterEdits: number
  /** Central versions the slave applied meanwhile. */
  versionsApplied: number
  /** Appended lines missing from the slave's file at the end. */
  lostOnSlave: string[]
  /** Lines (of either side) missing from the master's file at the end. */
  missingOnMaster: string[]
}

async function keysOf (file: string): Promise<Set<string>> {
  const text = await readFile(file, 'utf8')
  return new Set(text.split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#')).map(l => l.split(/\s+/)[0]))
}

// The appender: one O_APPEND open, write and close a line, like a shell's `>>` (a stall, when
// asked, between the open and the write).
const APPENDER = `
const { closeSync, openSync, writeSync } = require('node:fs')
const [file, every, duration, stallMs] = process.argv.slice(1)
const end = Date.now() + Number(duration)
let i = 0
const tick = () => {
  if (Date.now() >= end) { process.stdout.write(String(i)); return }
  const fd = openSync(file, 'a')
  if (Number(stallMs) > 0 && i % 7 === 3) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(stallMs))
  writeSync(fd, 'slave-' + i + '.example.com\\n')
  closeSync(fd)
  i++
  setTimeout(tick, Number(every))
}
tick()
`

/** Runs the race with a fresh two-node cluster, which it stops and removes afterwards. */
export async function runEditRace (opts: EditRaceOptions): Promise<EditRaceResult> {
  const cluster = await InProcessCluster.create('edit-race')
  try {
    const master = await cluster.start({ priority: 10 }, { 'blacklist.txt': '# master\n' })
    const slave = await cluster.start({}, { 'blacklist.txt': '# slave\n' })
    await cluster.oneMaster()
    const masterFile = join(master.config.settingsDir, 'blacklist.txt')
    const slaveFile = join(slave.config.settingsDir, 'blacklist.txt')
    const startSeq = slave.engine.appliedVersion.seq

    const appender = spawn(process.execPath, ['-e', APPENDER, slaveFile, String(opts.appendEveryMs), String(opts.durationMs), String(opts.appendStallMs ?? 0)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    appender.stdout.on('data', (d: Buffer) => { out += d.toString() })
    const appenderDone = new Promise<number>((resolve, reject) => {
      appender.on('error', reject)
      appender.on('exit', (code) => {
        if (code === 0) resolve(Number(out))
        else reject(new Error(`appender exited with ${code}`))
      })
    })
    const masterKeys: string[] = []
    try {
      const end = Date.now() + opts.durationMs
      while (Date.now() < end) {
        const key = `master-${masterKeys.length}.example.org`
        await appendFile(masterFile, key + '\n')
        masterKeys.push(key)
        await new Promise(resolve => setTimeout(resolve, opts.masterEveryMs))
      }
    } catch (err) {
      appender.kill()
      throw err
    }
    const appended = await appenderDone
    const slaveKeys = Array.from({ length: appended }, (_, i) => `slave-${i}.example.com`)
    const all = [...slaveKeys, ...masterKeys]

    // Wait until both files hold every line, or the settle time is up; then count what is missing.
    const deadline = Date.now() + (opts.settleMs ?? 20_000)
    let lostOnSlave: string[] = []
    let missingOnMaster: string[] = []
    for (;;) {
      const onSlave = await keysOf(slaveFile)
      const onMaster = await keysOf(masterFile)
      lostOnSlave = slaveKeys.filter(k => !onSlave.has(k))
      missingOnMaster = all.filter(k => !onMaster.has(k))
      if ((lostOnSlave.length === 0 && missingOnMaster.length === 0) || Date.now() > deadline) break
      await new Promise(resolve => setTimeout(resolve, 200))
    }
    return { appended, masterEdits: masterKeys.length, versionsApplied: slave.engine.appliedVersion.seq - startSeq, lostOnSlave, missingOnMaster }
  } finally {
    await cluster.stop()
  }
}
