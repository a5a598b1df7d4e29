/** The counters `metrics()` returns; plain numbers so a Prometheus exporter can read them as they are. */
export function createCounters() {
  return {
    framesSent: 0,
    framesReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    messagesSent: 0,
    messagesDelivered: 0,
    bestEffortDropped: 0,
    /** Messages over `maxMessageSize`, dropped at the sender (reported as `FrameTooLarge`). */
    tooLargeDropped: 0,
    /** Placeholders of such messages that arrived here (nothing delivered). */
    tooLargeReceived: 0,
    retransmitted: 0,
    /** Acks of data lanes sent on the control lane (they had no data to ride on). */
    acksViaControl: 0,
    retransmitTimeouts: 0,
    duplicatesDropped: 0,
    staleDropped: 0,
    heldBack: 0,
    chunksSent: 0,
    chunksReceived: 0,
    rejectedFrames: 0,
    handshakeFailures: 0,
    linksOpened: 0,
    linksClosed: 0,
    duplicateLinksClosed: 0,
    reconnects: 0,
    heartbeatTimeouts: 0,
    peersUp: 0,
    peersDown: 0,
    /** Sessions ended because the peer had lost (forgotten) its side. */
    sessionResets: 0,
    overloaded: 0,
    /** Messages refused by a peer's rate limit (best-effort dropped, reliable left unacked). */
    rateLimited: 0,
    /** Messages refused because the peer's held messages were over `maxHeldBytes` (left unacked, resent). */
    holdBackRefused: 0,
  }
}

export type Counters = ReturnType<typeof createCounters>
