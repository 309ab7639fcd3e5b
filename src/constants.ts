import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/** Agent version, from package.json, so status and manifests never disagree with the release. */
export const AGENT_VERSION: string = require('../../package.json').version

/** Sync protocol major version; carried in every protocol id, a peer with another major is refused. */
export const PROTOCOL_VERSION = 1

/** Version of the settings schema (dataset names and their meaning); peers must match. */
export const SCHEMA_VERSION = 1

/** The list datasets and the file each lives in inside the settings folder. */
export const LIST_DATASETS = ['whitelist', 'blacklist', 'autowhitelist'] as const

/** A list dataset name. */
export type ListDataset = typeof LIST_DATASETS[number]

/** File name of a list dataset inside the settings folder. */
export function listFileName (dataset: ListDataset): string {
  return `${dataset}.txt`
}

/** Default tolerated clock skew: remote stamps further in the future are clamped to now + this. */
export const DEFAULT_MAX_SKEW_MS = 5 * 60 * 1000

/** Default quiet time after a file change before it is scanned, so an editor's burst is one change. */
export const DEFAULT_DEBOUNCE_MS = 200

/** Default periodic rescan, the safety net for missed file-system events. */
export const DEFAULT_RESCAN_INTERVAL_MS = 60 * 1000

/** Default data folder (LevelDB, identity, cluster key). */
export const DEFAULT_DATA_DIR = './spamsync-data'

/** Default settings folder (the list files the mail server reads). */
export const DEFAULT_SETTINGS_DIR = './settings'
