/**
 * What each figure of `pnpm bench` means, for `docs/benchmarks.md`. The issues name these figures;
 * a suite that adds a figure adds its line here (unknown names are still listed, as undescribed).
 */
export interface Figure {
  readonly name: string
  readonly meaning: string
}

export const FIGURES: readonly Figure[] = [
  { name: 'raw.single', meaning: 'Raw ceiling, one 64-byte message per WebSocket frame, `ws` client → uWebSockets.js server, 256 frames per corked write; counted at the receiver.' },
  { name: 'raw.batched', meaning: 'Raw ceiling with coalescing: 960 distinct 64-byte messages copied into each frame at the sender and split into 960 views at the receiver (the least per-message work of any batching transport), `ws` → uWS.' },
  { name: 'raw.single.down', meaning: 'As `raw.single`, the other direction: uWS server → `ws` client.' },
  { name: 'raw.batched.down', meaning: 'As `raw.batched`, the other direction (uWS server → `ws` client), with 240 messages per frame: uWS 20.30 corrupts the stream with server frames of 16 KiB or more under backpressure (fixed upstream in uWebSockets PR #1662).' },
  { name: 'raw.ws-bytes', meaning: 'Bytes per second of 1 MiB frames, `ws` → uWS: the baseline of `large.stream`.' },
  { name: 'raw.rtt-p50', meaning: 'Round trip of one 64-byte message, one in flight, `ws` client → uWS echo → client; median µs.' },
  { name: 'raw.rtt-p99', meaning: 'As `raw.rtt-p50`, 99th percentile.' },
  { name: 'raw.inflight', meaning: 'Round trips per second with 100 messages in flight on the raw socket (echo), replies corked per read.' },
  { name: 'xstate.send', meaning: 'xstate v5 actor receiving events in one process: the baseline of `local.tell`.' },
  { name: 'local.tell', meaning: 'Murmur agent receiving `tell`s in one process, msg/s.' },
  { name: 'local.ask', meaning: 'Local request/response round trips per second.' },
  { name: 'local.spawn', meaning: 'Agents spawned per second.' },
  { name: 'local.memory-per-agent', meaning: 'Heap bytes per idle agent, measured with 1,000,000 agents.' },
  { name: 'transport.best-effort', meaning: 'Transport messages per second between two node processes on the best-effort channel (64-byte payloads).' },
  { name: 'transport.reliable', meaning: 'Transport messages per second on a reliable (acknowledged, de-duplicated) channel.' },
  { name: 'transport.rtt-p50', meaning: 'Transport round trip, one in flight, median µs.' },
  { name: 'transport.rtt-p99', meaning: 'Transport round trip, one in flight, 99th percentile µs.' },
  { name: 'remote.tell.best-effort', meaning: 'Agent-to-agent `tell` across two node processes, best-effort message type, msg/s.' },
  { name: 'remote.tell.reliable', meaning: 'Agent-to-agent `tell` across two node processes, reliable fifo message type, msg/s.' },
  { name: 'remote.ask.p50', meaning: 'Agent-to-agent `ask` across two node processes, one in flight, median µs.' },
  { name: 'remote.ask.p99', meaning: 'As `remote.ask.p50`, 99th percentile.' },
  { name: 'remote.rtt-p50', meaning: 'The raw round trip (as `raw.rtt-p50`) between the two node processes of `remote.ask.p50`, one before each ask: the baseline of the ask figures, measured with the machine in the same state (both processes still polling after the previous ask, see `busyPollMicros`); median µs.' },
  { name: 'remote.ask.throughput', meaning: 'Agent-to-agent `ask`s per second with 100 in flight.' },
  { name: 'cluster.failure-detection', meaning: 'ms from `kill -9` of a node to `member-down` on every other node.' },
  { name: 'cluster.rebalance', meaning: 'ms to move 10,000 agents when a fourth node joins three.' },
  { name: 'cluster.heal', meaning: 'ms from the end of a network partition (5 processes cut 3|2) until every agent runs once and all directories agree.' },
  { name: 'sim.convergence-1000', meaning: 'Simulated HyParView membership of 1,000 nodes (memory transport): rounds from a cold start through one seed until the overlay is connected, symmetric and its active views full.' },
  { name: 'sim.broadcast-reach-1000', meaning: 'Simulated Plumtree broadcast over 1,000 nodes with 20% crashed: the fraction of live nodes reached.' },
  { name: 'sim.flood-cost-1000', meaning: 'Messages per node per broadcast when flooding a full mesh of 1,000 nodes: the baseline of `sim.broadcast-cost-1000`.' },
  { name: 'sim.broadcast-cost-1000', meaning: 'Messages per node per Plumtree broadcast over HyParView, 1,000 nodes, after the tree settled.' },
  { name: 'large.stream', meaning: 'Bytes per second of 1 MiB chunks streamed agent to agent across two processes.' },
  { name: 'peer.moleculer.emit', meaning: 'Moleculer 0.14 (TCP transporter, static URLs, JSON): events one-way between two processes, counted at the receiver.' },
  { name: 'peer.moleculer.call', meaning: 'Moleculer request/response with 100 calls in flight, calls/s.' },
  { name: 'peer.moleculer.rtt-p50', meaning: 'Moleculer call, one in flight, median µs.' },
  { name: 'peer.moleculer.rtt-p99', meaning: 'Moleculer call, one in flight, 99th percentile µs.' },
  { name: 'peer.erlang.send', meaning: 'Distributed Erlang, two local nodes: one-way `!` of 64-byte binaries to a pid on the other node, counted there.' },
  { name: 'peer.erlang.rtt-p50', meaning: 'Distributed Erlang ping/pong, one in flight, median µs.' },
  { name: 'peer.erlang.rtt-p99', meaning: 'As `peer.erlang.rtt-p50`, 99th percentile.' },
  { name: 'peer.erlang.inflight', meaning: 'Distributed Erlang round trips per second with 1000 in flight.' },
]

/** The figures the issues ask for: the docs list those a run lacks. */
export const EXPECTED: readonly string[] = [
  'raw.single', 'raw.batched', 'raw.rtt-p50', 'raw.rtt-p99', 'raw.ws-bytes',
  'xstate.send', 'local.tell', 'local.ask', 'local.spawn', 'local.memory-per-agent',
  'transport.best-effort', 'transport.reliable', 'transport.rtt-p50', 'transport.rtt-p99',
  'remote.tell.best-effort', 'remote.tell.reliable', 'remote.ask.p50', 'remote.ask.p99', 'remote.rtt-p50', 'remote.ask.throughput',
  'cluster.failure-detection', 'cluster.rebalance', 'large.stream',
  'peer.moleculer.emit', 'peer.moleculer.call', 'peer.moleculer.rtt-p50',
  'peer.erlang.send', 'peer.erlang.rtt-p50', 'peer.erlang.inflight',
]

export function meaningOf(name: string): string | undefined {
  return FIGURES.find((f) => f.name === name)?.meaning
}
