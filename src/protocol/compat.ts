/**
 * Who may sync with whom. The protocol major and the settings schema must match; with
 * `strictVersion` the agent versions must match exactly (GFI's "all servers run one version").
 */
import { AGENT_VERSION, PROTOCOL_VERSION, SCHEMA_VERSION } from '../constants.js'

/** The versions a peer states (in identify, in beacons and in every request). */
export interface PeerVersions {
  protocolVersion: number
  schemaVersion: number
  agentVersion: string
}

/** This agent's versions. */
export const LOCAL_VERSIONS: PeerVersions = Object.freeze({ protocolVersion: PROTOCOL_VERSION, schemaVersion: SCHEMA_VERSION, agentVersion: AGENT_VERSION })

/** Why a peer is refused, or null when it is compatible. */
export function incompatibility (remote: PeerVersions, strictVersion: boolean, local: PeerVersions = LOCAL_VERSIONS): string | null {
  if (remote.protocolVersion !== local.protocolVersion) return `protocol ${remote.protocolVersion} (this node speaks ${local.protocolVersion})`
  if (remote.schemaVersion !== local.schemaVersion) return `settings schema ${remote.schemaVersion} (this node has ${local.schemaVersion})`
  if (strictVersion && remote.agentVersion !== local.agentVersion) return `agent ${remote.agentVersion} (strictVersion requires ${local.agentVersion})`
  return null
}

/** Reads the versions out of a user agent `spamsync/A protocol/P schema/S`; null for anything else. */
export function parseUserAgent (ua: string | undefined): PeerVersions | null {
  const m = /^spamsync\/(\S+) protocol\/(\d+) schema\/(\d+)$/.exec(ua ?? '')
  if (m === null) return null
  return { agentVersion: m[1], protocolVersion: Number(m[2]), schemaVersion: Number(m[3]) }
}
