/**
 * The protocols this node serves: uploads (the master merges them), fetches (archives for the
 * other nodes) and forwarded control requests (a rollback from a slave), all answered by the
 * sync engine; started together, stopped together.
 */
import { join } from 'node:path'
import { UploadService } from './upload-service.js'
import { FetchService, type FetchAsk, type Served } from './fetch-service.js'
import { ControlService } from './control-service.js'
import { incompatibility, type PeerVersions } from './compat.js'
import type { SpamsyncNode } from '../net/libp2p-node.js'
import type { TrafficCounter } from './traffic.js'
import type { Reporter } from '../guarded.js'
import type { Version } from '../version.js'
import type { RollbackOutcome } from '../archive/change-summary.js'

/** What answers the services (the sync engine is one). */
export interface WireTarget {
  uploadRefusal: (hello: PeerVersions & { nodeId: string }) => string | null
  needsFull: (nodeId: string, baseTerm: number) => boolean
  mergeUpload: (nodeId: string, zip: Uint8Array, kind: 'full' | 'delta') => Promise<Version>
  serveFetch: (since: Version, ask: FetchAsk) => Promise<Served>
  rollback: (version: Version, opts: { dryRun: boolean }) => Promise<RollbackOutcome>
}

/** How the services run. */
export interface WireServicesOptions {
  /** The data folder: uploads being received are kept in its `uploads` folder. */
  dataDir: string
  strictVersion: boolean
  traffic: TrafficCounter
  /** Times one merge (AgentMetrics.timeMerge). */
  timeMerge: <T>(work: () => Promise<T>) => Promise<T>
  report: Reporter
}

/** The upload, fetch and control services of one node. */
export class WireServices {
  private readonly services: Array<{ start: () => Promise<void>, stop: () => Promise<void> }>
  private started = 0

  constructor (node: SpamsyncNode, target: WireTarget, opts: WireServicesOptions) {
    const upload = new UploadService(node, {
      refusal: (hello) => target.uploadRefusal(hello),
      needsFull: (nodeId, baseTerm) => target.needsFull(nodeId, baseTerm),
      merge: async (nodeId, zip, kind) => await opts.timeMerge(async () => await target.mergeUpload(nodeId, zip, kind))
    }, opts.traffic, { partialDir: join(opts.dataDir, 'uploads'), report: opts.report })
    const fetch = new FetchService(node, {
      refusal: (hello) => { const bad = incompatibility(hello, opts.strictVersion); return bad === null ? null : `incompatible: ${bad}` },
      serve: async (since, _want, ask) => await target.serveFetch(since, ask)
    }, opts.traffic)
    // A forwarded request is carried out here or refused, never forwarded again (no loops).
    const control = new ControlService(node, { rollback: async (version, dryRun) => await target.rollback(version, { dryRun }) }, opts.strictVersion)
    this.services = [upload, fetch, control]
  }

  async start (): Promise<void> {
    for (const service of this.services) {
      await service.start()
      this.started++
    }
  }

  /** Stops the services that started. */
  async stop (): Promise<void> {
    for (const service of this.services.slice(0, this.started)) await service.stop()
    this.started = 0
  }
}
