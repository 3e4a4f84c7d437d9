internal import SensorCore

/// One shard: its way in (de-duplication, journal, queue) and the aggregation state its
/// worker owns.
struct Shard: Sendable {
    let index: Int
    let ingress: ShardIngress
    let aggregator: ShardAggregator
    /// This shard's share of ``PipelineConfiguration/maxPendingBuckets``.
    let pendingBucketLimit: Int

    var queue: IngestQueue { ingress.queue }

    /// Applies queued batches until the queue is finished and drained. Past the pending
    /// bucket limit it asks for a flush and waits until the flusher took the buckets.
    func work(requestFlush: () -> Void) async {
        while let batches = await queue.next() {
            if aggregator.apply(batches) >= pendingBucketLimit {
                requestFlush()
                await aggregator.waitForDrain(below: pendingBucketLimit)
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
