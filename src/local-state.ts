/**
 * Opens what one node keeps on disk (store, identity, replica, settings folder) in the right
 * order. Used by the agent and by the commands that work on a stopped node (export, import).
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { StateStore } from './store/state-store.js'
import { loadOrCreateIdentity, type Identity } from './net/identity.js'
import { ListReplica, type ReplicaOptions } from './replica/list-replica.js'
import { BayesReplica } from './replica/bayes-replica.js'
import { SettingsFolder } from './replica/settings-folder.js'
import type { Config } from './config.js'
import { FileAccessError } from './errors.js'
import { makePrivateFolder } from './file-modes.js'

/** A node's local state, open. */
export interface LocalState {
  store: StateStore
  identity: Identity
  replica: ListReplica
  bayes: BayesReplica
  folder: SettingsFolder
  /** The data folder's mode before this open tightened it to 0700, or null when it was not open to others. */
  dataDirModeBefore: number | null
  /** Closes the store. */
  close: () => Promise<void>
}

/**
 * Opens the data and settings folders of `config`, creating them on first use. The data folder
 * holds the node's private key, so it is made (or tightened to) 0700. `lists` says when the list
 * entries are read (see ListReplica.load).
 */
export async function openLocalState (config: Pick<Config, 'dataDir' | 'settingsDir' | 'maxSkewMs'> & Partial<Pick<Config, 'maxSettingsFileBytes'>>, wallClock: () => number = Date.now, lists: ReplicaOptions = {}): Promise<LocalState> {
  const dataDirModeBefore = await makePrivateFolder(config.dataDir)
  try {
    await mkdir(config.settingsDir, { recursive: true })
  } catch (err: any) {
    throw new FileAccessError(`cannot create folder ${config.settingsDir}: ${err?.code ?? err}`, { cause: err })
  }
  const store = await StateStore.open(join(config.dataDir, 'state'))
  try {
    const identity = await loadOrCreateIdentity(store)
    const replica = await ListReplica.load(store, identity.nodeId, wallClock, config.maxSkewMs, lists)
    const bayes = await BayesReplica.load(store, identity.nodeId)
    const folder = new SettingsFolder(config.settingsDir, replica, config.maxSettingsFileBytes)
    return { store, identity, replica, bayes, folder, dataDirModeBefore, close: async () => { await folder.close(); await store.close() } }
  } catch (err) {
    await store.close()
    throw err
  }
}
