import type { Version } from '../version.js'

/** The time and size of a node's last upload or download, for status. */
export interface TransferReport {
  time: string
  kind: 'full' | 'delta'
  bytes: number
  version?: Version
  peer: string
}
