/** Payload bytes moved by the sync streams since start, as status reports them. */
export class TrafficCounter {
  /** Bytes written to sync streams. */
  bytesSent = 0
  /** Bytes read from sync streams. */
  bytesReceived = 0
}
