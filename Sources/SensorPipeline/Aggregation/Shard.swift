internal import SensorCore

/// One shard: its way in (de-duplication, journal, queue) and the aggregation state its
/// worker owns.
struct Shard: Sendable {
    let index: Int
    let ingress: ShardIngress
    let aggregator: ShardAggregator

    var queue: IngestQueue { ingress.queue }

    /// Applies queued batches until the queue is finished and drained. Past the pending
    /// limit it asks for a flush and waits until the flusher took the buckets.
    func work(requestFlush: () -> Void) async {
        while let batches = await queue.next() {
            if aggregator.apply(batches) {
                requestFlush()
                await aggregator.waitForDrain()
            }
            // A trickle of tiny batches (one MQTT message each) would wake this task once
            // per reading; a millisecond's pause lets them gather, so wake-ups stay under
            // a thousand a second. Large batches go straight on.
            if batches.count < 8, batches.reduce(0, { $0 + $1.readings.count }) < 64 {
                try? await Task.sleep(for: .milliseconds(1))
            }
        }
    }
}
