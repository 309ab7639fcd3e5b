/**
 * `/spamsync/control/1.0.0`: a slave forwards an operator's request that only the master can
 * carry out (a rollback) to the master. One length-prefixed JSON request, one JSON answer.
 */
import { lpStream } from '@libp2p/utils'
import type { PeerId, Startable, Stream } from '@libp2p/interface'
import { PROTOCOL_VERSION } from '../constants.js'
import { NoMasterError, SpamsyncError, SyncRefusedError, UnknownVersionError } from '../errors.js'
import { incompatibility, type PeerVersions } from './compat.js'
import { readMessage } from './transfer.js'
import { printable, ERROR_TEXT_MAX } from '../printable.js'
import type { SpamsyncNode } from '../net/libp2p-node.js'
import type { Version } from '../version.js'
import type { RollbackOutcome } from '../archive/change-summary.js'
import { checkRollbackLists } from '../archive/history-record.js'

/** Protocol id; the major version is the sync protocol's. */
export const CONTROL_PROTOCOL = `/spamsync/control/${PROTOCOL_VERSION}.0.0`

/** A forwarded request: the sender's versions and what it asks for. */
export interface ControlRequest {
  hello: PeerVersions & { nodeId: string }
  /** `rollback-preview`: a dry run (a master before it refuses it as unknown, so it never rolls back by mistake). */
  op: 'rollback' | 'rollback-preview'
  version: Version
}

/**
 * The answer: the new central version (null for a preview) and the keys per dataset it changed
 * (absent from a master before summaries), or the named error the master met.
 */
export type ControlResponse = { ok: true, version: Version | null, lists?: unknown } | { ok: false, error: string, message: string }

/** Requests the master carries out; implemented by the agent. */
export interface ControlTarget {
  rollback: (version: Version, dryRun: boolean) => Promise<RollbackOutcome>
}

/** Serves forwarded requests on this node. */
export class ControlService implements Startable {
  constructor (
    private readonly node: SpamsyncNode,
    private readonly target: ControlTarget,
    private readonly strictVersion: boolean
  ) {}

  async start (): Promise<void> {
    await this.node.handle(CONTROL_PROTOCOL, (stream) => {
      this.serve(stream).catch((err) => { stream.abort(err) })
    }, { maxInboundStreams: 2 })
  }

  async stop (): Promise<void> {
    await this.node.unhandle(CONTROL_PROTOCOL)
  }

  private async serve (stream: Stream): Promise<void> {
    const lp = lpStream(stream)
    const req = JSON.parse(Buffer.from(await readMessage(lp)).toString('utf8')) as ControlRequest
    let res: ControlResponse
    const bad = incompatibility(req.hello, this.strictVersion)
    if (bad !== null) {
      res = { ok: false, error: 'SyncRefusedError', message: `incompatible: ${bad}` }
    } else if (req.op !== 'rollback' && req.op !== 'rollback-preview') {
      res = { ok: false, error: 'SyncRefusedError', message: `unknown request ${String(req.op)}` }
    } else {
      try {
        res = { ok: true, ...await this.target.rollback(req.version, req.op === 'rollback-preview') }
      } catch (err: any) {
        // Only named errors cross the wire; anything else is a bug on this node.
        res = err instanceof SpamsyncError ? { ok: false, error: err.name, message: err.message } : { ok: false, error: 'SyncRefusedError', message: 'internal error on the master' }
      }
    }
    await lp.write(Buffer.from(JSON.stringify(res)))
    await stream.close()
  }
}

/** Sends a request to `peer` (the master); a refusal comes back as the master's named error. */
export async function controlRequest (node: SpamsyncNode, peer: PeerId, req: ControlRequest): Promise<RollbackOutcome> {
  const stream = await node.dialProtocol(peer, CONTROL_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
  let res: ControlResponse
  try {
    const lp = lpStream(stream)
    await lp.write(Buffer.from(JSON.stringify(req)))
    res = JSON.parse(Buffer.from(await readMessage(lp)).toString('utf8')) as ControlResponse
    await stream.close()
  } catch (err: any) {
    stream.abort(err)
    throw err
  }
  if (res.ok) return { version: res.version, lists: res.lists === undefined ? null : checkRollbackLists(res.lists) }
  // The master's words go to the operator's terminal and the log: printable only.
  const message = printable(String(res.message), ERROR_TEXT_MAX)
  if (res.error === 'UnknownVersionError') throw new UnknownVersionError(message)
  if (res.error === 'NoMasterError') throw new NoMasterError(message)
  throw new SyncRefusedError(`master ${peer.toString()} refused: ${message}`)
}
