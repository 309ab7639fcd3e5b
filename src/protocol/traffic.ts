/** Payload bytes moved by the sync streams since start, as status reports them. */
export class TrafficCounter {
  /** Bytes written to sync streams. */
  bytesSent = 0
  /** Bytes read from sync streams. */
  bytesReceived = 0
  /** Of `bytesSent`: answers to other nodes' fetches (headers and archives), the load fan-out spreads. */
  fetchBytesServed = 0
  /** Beacon frames (length prefix and protobuf, introductions included), apart from the sync streams. */
  readonly beacons = { framesSent: 0, bytesSent: 0, framesReceived: 0, bytesReceived: 0 }
}
