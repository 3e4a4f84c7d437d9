internal import SensorCore

/// One shard: its bounded queue and the aggregation state its worker owns.
struct Shard: Sendable {
    let index: Int
    let queue: IngestQueue
    let aggregator: ShardAggregator
    /// This shard's share of ``PipelineConfiguration/maxPendingBuckets``.
    let pendingBucketLimit: Int

    /// Applies queued batches until the queue is finished and drained; asks for an early
    /// flush whenever its pending buckets pass the limit.
    func work(requestFlush: () -> Void) async {
        while let batches = await queue.next() {
            if aggregator.apply(batches) >= pendingBucketLimit {
                requestFlush()
            }
        }
    }
}
