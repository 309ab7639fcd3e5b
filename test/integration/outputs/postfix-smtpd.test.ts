/**
 * The lists take effect in a real Postfix on every server: two agents in this process, each with
 * a Postfix instance (master + smtpd) in its own network namespace on 127.0.0.1:25, reading the
 * agent's postfix-access and postfix-cidr outputs. The tables are rendered at start-up, before
 * Postfix starts; then the edit is made on one agent only, and both servers' smtpd reject a
 * blacklisted sender, a sender under a blacklisted wildcard domain and a client in a blacklisted
 * CIDR block at SMTP time, and accept a whitelisted sender.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent } from '../../../src/agent.js'
import { generateClusterKey, writeClusterKey } from '../../../src/net/cluster-key.js'
import { waitFor } from '../../helpers/agents.js'
import { testAgentConfig } from '../../helpers/in-process.js'
import { NetnsLab } from '../../helpers/netns.js'
import { POSTFIX, PostfixInstance } from '../../helpers/postfix-instance.js'

const skip = !existsSync(POSTFIX) ? 'postfix not installed (apt-get install postfix)' : NetnsLab.unavailable('sspfx')

let root: string
const lab = new NetnsLab('sspfx')
const agents: Agent[] = []
const servers: PostfixInstance[] = []

before(async () => {
  if (skip !== null) return
  lab.removeLeftovers()
  root = await mkdtemp(join(tmpdir(), 'spamsync-smtpd-'))
  // Postfix's daemons run as the postfix user and must reach their folders below it.
  await chmod(root, 0o755)
  await writeClusterKey(join(root, 'cluster.key'), generateClusterKey())
  for (let i = 0; i < 2; i++) {
    const pf = new PostfixInstance(join(root, `postfix${i}`), lab.addNamespace(`mx${i}`))
    await pf.configure()
    servers.push(pf)
    const dir = join(root, `n${i}`)
    await mkdir(join(dir, 'settings'), { recursive: true })
    for (const list of ['whitelist', 'blacklist', 'autowhitelist']) await writeFile(join(dir, 'settings', `${list}.txt`), `# ${list}\n`)
    agents.push(await Agent.start(testAgentConfig(dir, join(root, 'cluster.key'), i === 0 ? [] : agents[0].status().listen, {
      outputs: [
        { format: 'postfix-access', datasets: ['whitelist', 'autowhitelist', 'blacklist'], path: pf.senderAccess, command: pf.postmapCommand },
        { format: 'postfix-cidr', datasets: ['whitelist', 'autowhitelist', 'blacklist'], path: pf.clientCidr, command: pf.reloadCommand }
      ]
    })))
  }
})

after(async () => {
  for (const a of agents) await a.stop()
  for (const s of servers) s.stop()
  lab.cleanup()
  if (root !== undefined) await rm(root, { recursive: true, force: true })
})

type OutputStatusDoc = Array<{ path: string, entries: number, lastWrite: string | null, command: { ok: boolean | null, successes: number } | null }>

test('an edit on one server makes both servers\' smtpd reject the blacklisted and accept the whitelisted', { skip: skip ?? false, timeout: 90_000 }, async () => {
  // Rendered at start-up: the tables exist (and the hash table is built) before Postfix starts.
  for (const [i, pf] of servers.entries()) {
    await waitFor(`server ${i} built its sender table`, () => existsSync(pf.senderAccess + '.db') && existsSync(pf.clientCidr))
    pf.start()
  }
  for (const pf of servers) assert.match(pf.rcptReply('-', 'spam@bad.example'), /^250 /, 'nothing is listed yet')

  const settings = agents[0].config.settingsDir
  await writeFile(join(settings, 'blacklist.txt'), '# blacklist\nspam@bad.example\n*.spam.example\n127.0.1.0/24 550 5.7.1 your network sends spam\n')
  await writeFile(join(settings, 'whitelist.txt'), '# whitelist\nJoe@Example.com trusted customer\n')

  for (const [i, agent] of agents.entries()) {
    await waitFor(`server ${i} rendered the edit and ran its commands`, () => {
      const outs = agent.status().outputs as OutputStatusDoc
      return outs.length === 2 && outs[0].entries === 3 && outs[1].entries === 1 && outs.every(o => o.command?.ok === true) ? outs : null
    }, 30_000)
  }
  for (const [i, pf] of servers.entries()) {
    // Idle smtpd processes of the old generation serve on until they notice the reload; poll
    // until this server answers with the new tables.
    await waitFor(`server ${i} rejects the blacklisted sender`, () => /^554 5\.7\.1 <spam@bad\.example>: Sender address rejected/.test(pf.rcptReply('-', 'spam@bad.example')), 20_000, 250)
    await waitFor(`server ${i} rejects a sender under the wildcard`, () => /^554 5\.7\.1 <someone@a\.b\.spam\.example>: Sender address rejected/.test(pf.rcptReply('-', 'someone@a.b.spam.example')), 20_000, 250)
    await waitFor(`server ${i} rejects a client in the blacklisted block, with the entry's own reply`, () => /^550 5\.7\.1 .*your network sends spam/.test(pf.rcptReply('127.0.1.5', 'other@fine.example')), 20_000, 250)
    assert.match(pf.rcptReply('-', 'joe@example.com'), /^250 /, `server ${i}: the whitelisted sender`)
    assert.match(pf.rcptReply('-', 'x@spam.example'), /^250 /, `server ${i}: *.spam.example is the subdomains only`)
  }
  // The agent where the edit was made wrote its tables like the other one: the same bytes.
  assert.equal(await readFile(servers[0].senderAccess, 'utf8'), await readFile(servers[1].senderAccess, 'utf8'))
  assert.equal(await readFile(servers[0].clientCidr, 'utf8'), await readFile(servers[1].clientCidr, 'utf8'))
})
