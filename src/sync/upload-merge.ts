/**
 * The master's merge of a slave's upload: checks the archive, merges it in the queue and cuts the
 * version that holds it, and says whether that version is the upload merged onto exactly the
 * version the slave built it on (protocol/sync-v1.md, "An upload's own version"): then the slave
 * already holds that version's content and takes it as applied without fetching it.
 */
import { ArchiveError, SyncRefusedError } from '../errors.js'
import { compareVersions, type Version } from '../version.js'
import { readSettingsArchive, type SettingsArchive } from './settings-archive.js'
import { applyArchive, changedLists } from './archive-apply.js'
import { checkUploadContributions } from '../replica/upload-contributions.js'
import type { ListDataset } from '../constants.js'
import type { MergedUpload } from '../protocol/upload-service.js'
import type { ListReplica } from '../replica/list-replica.js'
import type { BayesReplica } from '../replica/bayes-replica.js'
import type { SerialQueue } from './serial-queue.js'
import type { VersionHistory } from './version-history.js'
import type { TombstoneCollector } from './tombstones.js'
import type { RoleView } from './engine-types.js'

/** What the merge works with (the engine's parts). */
export interface UploadMergeParts {
  nodeId: string
  replica: ListReplica
  bayes?: BayesReplica
  roles: () => RoleView
  queue: SerialQueue
  versions: Pick<VersionHistory, 'current' | 'record' | 'recordsFor'>
  tombstones: Pick<TombstoneCollector, 'screen'>
  /** Nodes whose full state this master merged in its term. */
  fullSeen: Set<string>
  speaksForItself?: (nodeId: string) => boolean
  /** Cuts, announces and writes a new central version (the engine's cutVersion). Runs inside the queue. */
  cutVersion: (origin: string, written: ListDataset[], bayesGrew: boolean) => Promise<void>
  report: (what: string, err: unknown) => void
}

/** Merges uploads on the master. */
export class UploadMerger {
  /** Upload merges waiting for the queue. */
  waiting = 0

  constructor (private readonly parts: UploadMergeParts) {}

  /** Checks and merges an uploaded archive; returns the central version that holds it. */
  async merge (nodeId: string, zip: Uint8Array, kind: 'full' | 'delta'): Promise<MergedUpload> {
    let archive: SettingsArchive
    try {
      archive = readSettingsArchive(zip)
    } catch (err) {
      // The uploader hears the reason in its reply; the operator of the master sees it in status.
      if (err instanceof ArchiveError) this.parts.report(`upload from ${nodeId}`, err)
      throw err
    }
    this.waiting++
    let waiting = true
    const done = (): void => {
      if (waiting) this.waiting--
      waiting = false
    }
    return await this.parts.queue.run(async () => {
      done()
      return await this.mergeInQueue(nodeId, archive, kind)
    }).catch((err) => {
      done()
      // The uploader only hears a refusal; a local failure (a full disk) belongs in this node's status.
      if (!(err instanceof SyncRefusedError)) this.parts.report(err instanceof ArchiveError ? `upload from ${nodeId}` : `merge upload from ${nodeId}`, err)
      throw err
    })
  }

  private async mergeInQueue (nodeId: string, archive: SettingsArchive, kind: 'full' | 'delta'): Promise<MergedUpload> {
    const { parts } = this
    if (parts.roles().role !== 'master') throw new SyncRefusedError('no longer master')
    const bayes = parts.bayes
    if (bayes !== undefined) {
      const handOver = kind === 'full' && archive.manifest.kind === 'full' ? 'full' : 'delta'
      await checkUploadContributions(nodeId, handOver, archive.bayes, {
        held: async id => await bayes.contributionPaced(id),
        speaksForItself: id => id === parts.nodeId || (parts.speaksForItself?.(id) ?? false)
      })
    }
    const base = await this.ownBase(archive, kind)
    const refused = parts.tombstones.screen(archive.lists, nodeId)
    const applied = await applyArchive(archive, { replica: parts.replica, bayes }, { synced: true, checkCarried: base !== null })
    if (kind === 'full') parts.fullSeen.add(nodeId)
    const changed = changedLists(applied)
    if (changed.length === 0 && applied.bayesChanged === 0) return { version: parts.versions.current }
    await parts.cutVersion(nodeId, changed, applied.bayesChanged > 0)
    const version = parts.versions.current
    // Every entry taken as sent, on exactly the base: the uploader's state is this version's.
    if (base === null || refused > 0 || !applied.asCarried) return { version }
    return { version, onlyBase: true, history: await parts.versions.recordsFor(base, version) }
  }

  /**
   * The version a delta was built on when this master's replicas hold exactly that version now
   * (it is the current one, and nothing changed since it was cut), else null.
   */
  private async ownBase (archive: SettingsArchive, kind: 'full' | 'delta'): Promise<Version | null> {
    const base = archive.manifest.base
    const current = this.parts.versions.current
    if (kind !== 'delta' || archive.manifest.kind !== 'delta' || base === null || compareVersions(base, current) !== 0) return null
    const record = await this.parts.versions.record(current)
    const unchanged = record !== undefined && record.lseq === this.parts.replica.changeSeq && record.bseq === this.parts.bayes?.changeSeq
    return unchanged ? current : null
  }
}
