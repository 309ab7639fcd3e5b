/**
 * The relayed heartbeat (election-v1.md, "Relayed heartbeat"): the master signs its beacon and
 * sends it to a few members, who pass it on through the relay tree (election/relay-tree.ts), so
 * no node sends more than a few copies a heartbeat whatever the cluster's size. The trust rule:
 * a copy another member passes on counts as the master's own beacon only when the master's
 * signature holds (a relay cannot forge or alter it), its beat is above every beat already taken
 * from that master (a relay cannot replay an old one to keep a dead master alive or its state
 * frozen), and it is not late (its beat is not further behind the last one taken than the time
 * since then, by more than the liveness window: a relay cannot hold a copy back to play it later).
 */
import { RELAY_FAN_OUT, relayTargets } from '../election/relay-tree.js'
import { BeaconRelayError } from '../errors.js'
import { SignatureCheck, signedFrame, signedPart, type BeaconSigner } from './beacon-signature.js'

/** Most masters whose last beat is kept: made-up ids cannot grow the table past this. */
export const MAX_MARKS = 1024

/** What a signed frame says about itself. */
export interface SignedBeacon {
  nodeId: string
  beat: number
  signature: Uint8Array
}

/**
 * What to do with a signed frame: take it as its author's beacon (and pass it on), or drop it as a
 * copy already taken, or as late (a loaded relay, or one holding copies back: not an error).
 */
export type Verdict = 'take' | 'duplicate' | 'late'

/** The parts a relay works with. */
export interface HeartbeatRelayParts {
  selfId: string
  /** Liveness window (ms): how late a relayed copy may come. */
  windowMs: number
  /** Local clock for arrival times (ms). */
  now: () => number
  /** Source of beats: a clock that never goes back in this process, in ms since the epoch. */
  beatClock: () => number
}

/** Stamps beats, signs, judges signed frames and names where a copy goes on to. */
export class HeartbeatRelay {
  private lastBeat = 0
  /** The last beat taken from each master, and when. */
  private readonly marks = new Map<string, { beat: number, at: number }>()
  private readonly check = new SignatureCheck()
  /** Signs with this node's key; until it is given, this node does not sign (it is not relayed as master). */
  private signer: BeaconSigner | undefined

  constructor (private readonly parts: HeartbeatRelayParts) {}

  /** Whether this node can sign its beacon as master. */
  get signs (): boolean {
    return this.signer !== undefined
  }

  /** This node signs with `signer` from now on. */
  signWith (signer: BeaconSigner): void {
    this.signer = signer
  }

  /** The next beat of this node's beacons: above the last one, about the time in ms. */
  nextBeat (): number {
    this.lastBeat = Math.max(this.lastBeat + 1, Math.floor(this.parts.beatClock()))
    return this.lastBeat
  }

  /** `unsigned` signed by this node (only when `signs`). */
  sign (unsigned: Uint8Array): Uint8Array {
    if (this.signer === undefined) throw new Error('this node has no signing key')
    return signedFrame(unsigned, this.signer)
  }

  /**
   * Judges signed frame `frame` (decoded as `b`) that peer `from` sent (see the file comment);
   * throws BeaconRelayError for a signature that is not the author's, or not the frame's last
   * field. A copy from the master itself always counts: its connection, which Noise
   * authenticates, is its word, so its signature is not verified (an Ed25519 verify, 2 of the 9
   * a beat costs a 10-node cluster); the members it passes the copy on to verify it.
   */
  judge (from: string, frame: Uint8Array, b: SignedBeacon): Verdict {
    const mark = this.marks.get(b.nodeId)
    const now = this.parts.now()
    const direct = from === b.nodeId
    if (!direct && mark !== undefined) {
      if (b.beat <= mark.beat) return 'duplicate'
      if ((now - mark.at) - (b.beat - mark.beat) > this.parts.windowMs) return 'late'
    } else if (direct && mark !== undefined && b.beat === mark.beat) return 'duplicate'
    const part = signedPart(frame, b.signature)
    if (part === null || (!direct && !this.check.verify(b.nodeId, part, b.signature))) throw new BeaconRelayError(`signed beacon of ${b.nodeId} from ${from} dropped: the signature is not ${b.nodeId}'s`)
    if (mark === undefined && this.marks.size >= MAX_MARKS) this.marks.clear()
    this.marks.set(b.nodeId, { beat: b.beat, at: now })
    return 'take'
  }

  /**
   * Where this node passes beat `beat` of master `root` on to, among `members` (live relaying
   * members, sorted, self included); a child it cannot reach is passed over for its children.
   */
  targets (root: string, beat: number, members: readonly string[], reachable?: (id: string) => boolean): string[] {
    return relayTargets(root, this.parts.selfId, members, beat, RELAY_FAN_OUT, reachable)
  }
}
