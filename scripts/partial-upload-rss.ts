/**
 * The partial-upload attack of issue 13, measured: a `spamsync start` master on 127.0.0.1, then
 * N peers with the cluster key (one id each) each start a 120 MiB upload, send all but the last
 * MiB and cut the stream. Prints the master's RSS before, at its peak and 5 s after, and the
 * size of its uploads folder, as JSON.
 *
 * `npm run build && node dist/scripts/partial-upload-rss.js [N=6]`
 */
import { spawn, execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { createSpamsyncNode } from '../src/net/libp2p-node.js'
import { readClusterKey } from '../src/net/cluster-key.js'
import { UPLOAD_PROTOCOL } from '../src/protocol/upload-service.js'
import { LOCAL_VERSIONS } from '../src/protocol/compat.js'
import { ArchiveKind, Status, UploadReady, UploadRequest } from '../src/pb/spamsync.js'
import { CLI, freePort, waitFor } from '../test/helpers/agents.js'

const SIZE = 120 * 1024 * 1024
const CHUNK = 1024 * 1024
const uploads = Number(process.argv[2] ?? 6)
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

const dir = await mkdtemp(join(tmpdir(), 'spamsync-rss-'))
const key = join(dir, 'cluster.key')
execFileSync(process.execPath, [CLI, 'keygen', '--out', key])
await mkdir(join(dir, 'settings'))
const httpPort = await freePort()
const master = spawn(process.execPath, [CLI, 'start', '--data-dir', join(dir, 'data'), '--settings-dir', join(dir, 'settings'), '--cluster-key', key,
  '--listen', '/ip4/127.0.0.1/tcp/0', '--http-port', String(httpPort), '--no-mdns'], { stdio: 'ignore' })
const rssMB = async (): Promise<number> => Math.round(Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${master.pid ?? 0}/status`, 'utf8'))?.[1]) / 1024)
try {
  const status = await waitFor('the agent to be master', async () => {
    const s = await (await fetch(`http://127.0.0.1:${httpPort}/status`)).json() as { role: string, nodeId: string, listen: string[] }
    return s.role === 'master' ? s : null
  }, 60_000)
  await sleep(3000)
  const before = await rssMB()
  let peak = before
  const zip = randomBytes(SIZE)
  for (let i = 0; i < uploads; i++) {
    const peer = await createSpamsyncNode({ privateKey: await generateKeyPair('Ed25519'), clusterKey: await readClusterKey(key), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false })
    await waitFor('a connection to the master', async () => await peer.dial(multiaddr(status.listen[0])).then(() => true, () => false))
    const stream = await peer.dialProtocol(peerIdFromString(status.nodeId), UPLOAD_PROTOCOL)
    const lp = lpStream(stream)
    zip[0] = i // another archive each time
    await lp.write(UploadRequest.encode({ hello: { nodeId: peer.peerId.toString(), ...LOCAL_VERSIONS }, kind: ArchiveKind.FULL, baseTerm: 0, baseLseq: 0, size: SIZE, sha256: createHash('sha256').update(zip).digest() }))
    const ready = UploadReady.decode((await lp.read()).subarray())
    if (ready.status === Status.OK) for (let pos = 0; pos < SIZE - CHUNK; pos += CHUNK) await lp.write(zip.subarray(pos, pos + CHUNK))
    else console.error(`upload ${i}: ${ready.status} ${ready.reason}`)
    await sleep(500)
    peak = Math.max(peak, await rssMB())
    stream.abort(new Error('cut off'))
    await peer.stop()
  }
  await sleep(5000)
  const after = await rssMB()
  const onDisk = execFileSync('du', ['-sm', join(dir, 'data')]).toString().split('\t')[0]
  console.log(JSON.stringify({ uploads, rssBeforeMB: before, rssPeakMB: peak, rssAfterMB: after, dataDirMB: Number(onDisk) }))
} finally {
  master.kill('SIGTERM')
  await new Promise(resolve => master.once('exit', resolve))
  await rm(dir, { recursive: true, force: true })
}
