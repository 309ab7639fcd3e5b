/**
 * A real Postfix instance for tests: its own config folder, queue and log under a temp folder,
 * its master (and so smtpd) inside a network namespace, listening on that namespace's
 * 127.0.0.1:25, with the spamsync tables in its restrictions. An SMTP probe run inside the
 * namespace (a small Node client) reports the server's replies to EHLO, MAIL FROM and RCPT TO.
 */
import { execFileSync } from 'node:child_process'
import { chownSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** Postfix's own command, in /usr/sbin. */
export const POSTFIX = '/usr/sbin/postfix'

const MASTER_CF = `127.0.0.1:25 inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
proxymap  unix  -       -       n       -       -       proxymap
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`

/** The Node SMTP client run inside a namespace: prints the replies as a JSON array. */
const PROBE = `import { connect } from 'node:net'
const [local, from, rcpt] = process.argv.slice(2)
const sock = connect({ host: '127.0.0.1', port: 25, localAddress: local === '-' ? undefined : local })
const cmds = ['EHLO client.test.example', 'MAIL FROM:<' + from + '>', 'RCPT TO:<' + rcpt + '>', 'QUIT']
const replies = []
let buf = ''
sock.setEncoding('utf8')
sock.setTimeout(10000, () => { sock.destroy(new Error('timeout')) })
sock.on('data', (d) => {
  buf += d
  let m
  while ((m = /^(\\d{3}) .*\\r\\n/m.exec(buf)) !== null) {
    const end = m.index + m[0].length
    replies.push(buf.slice(m.index, end).trim())
    buf = buf.slice(end)
    const next = cmds.shift()
    if (next !== undefined) sock.write(next + '\\r\\n')
  }
})
sock.on('close', () => { console.log(JSON.stringify(replies)) })
sock.on('error', (e) => { console.error(e.message); process.exit(1) })
`

/** One Postfix instance in a namespace. */
export class PostfixInstance {
  /** The sender access table (hash, built by postmap) and the client cidr table. */
  readonly senderAccess: string
  readonly clientCidr: string

  constructor (readonly dir: string, readonly netns: string) {
    this.senderAccess = join(dir, 'maps', 'sender_access')
    this.clientCidr = join(dir, 'maps', 'client_access.cidr')
  }

  /** Writes main.cf, master.cf, the queue and data folders and the SMTP probe. */
  async configure (): Promise<void> {
    for (const d of ['maps', 'queue', 'data']) await mkdir(join(this.dir, d), { recursive: true })
    // Postfix's daemons run as the postfix user and write their data folder.
    chownSync(join(this.dir, 'data'), Number(execFileSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).trim()), 0)
    await writeFile(join(this.dir, 'main.cf'), [
      'compatibility_level = 3.6',
      'myhostname = mx.test.example',
      'mydestination = test.example',
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      `queue_directory = ${join(this.dir, 'queue')}`,
      `data_directory = ${join(this.dir, 'data')}`,
      `maillog_file = ${join(this.dir, 'maillog')}`,
      `maillog_file_prefixes = ${this.dir}`,
      'local_recipient_maps =',
      'alias_maps =',
      'alias_database =',
      'smtpd_banner = $myhostname ESMTP',
      // One session per smtpd process: the next probe gets a process that opened the tables anew.
      'max_use = 1',
      // As the README says: without smtpd_access_maps, so ".domain" lines match the subdomains.
      'parent_domain_matches_subdomains = debug_peer_list, fast_flush_domains, mynetworks, permit_mx_backup_networks, qmqpd_authorized_clients, relay_domains',
      `smtpd_client_restrictions = check_client_access cidr:${this.clientCidr}`,
      `smtpd_sender_restrictions = check_sender_access hash:${this.senderAccess}`,
      'smtpd_recipient_restrictions = reject_unauth_destination',
      ''
    ].join('\n'))
    await writeFile(join(this.dir, 'master.cf'), MASTER_CF)
    await writeFile(join(this.dir, 'probe.mjs'), PROBE)
  }

  /** The command an output runs to make this Postfix use a new table. */
  get postmapCommand (): string {
    return `${'/usr/sbin/postmap'} -c '${this.dir}' "hash:$SPAMSYNC_OUTPUT" && ${POSTFIX} -c '${this.dir}' reload`
  }

  get reloadCommand (): string {
    return `${POSTFIX} -c '${this.dir}' reload`
  }

  /** Starts the master inside the namespace (the tables must exist). */
  start (): void {
    try {
      execFileSync('ip', ['netns', 'exec', this.netns, POSTFIX, '-c', this.dir, 'start'], { stdio: 'pipe', encoding: 'utf8' })
    } catch (err: any) {
      throw new Error(`postfix start failed: ${String(err.stderr ?? err.message)}`, { cause: err })
    }
  }

  /** Stops the master; the namespace's cleanup kills what is left. */
  stop (): void {
    try {
      execFileSync(POSTFIX, ['-c', this.dir, 'stop'], { stdio: 'pipe' })
    } catch {
      // Not running (a start that failed): nothing to stop.
    }
  }

  /** The server's replies to one SMTP dialogue from `localAddress` ('-': the default, 127.0.0.1). */
  probe (localAddress: string, from: string, rcpt = 'postmaster@test.example'): string[] {
    const out = execFileSync('ip', ['netns', 'exec', this.netns, process.execPath, join(this.dir, 'probe.mjs'), localAddress, from, rcpt], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    return JSON.parse(out) as string[]
  }

  /** The reply to RCPT TO (where smtpd_delay_reject reports every restriction). */
  rcptReply (localAddress: string, from: string): string {
    return this.probe(localAddress, from)[3] ?? ''
  }
}
