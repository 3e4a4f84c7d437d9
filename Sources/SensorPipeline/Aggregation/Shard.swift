internal import SensorCore

/// One shard: its bounded queue and the aggregation state its worker owns.
struct Shard: Sendable {
    let index: Int
    let queue: IngestQueue
    let aggregator: ShardAggregator

    /// Applies queued batches until the queue is finished and drained.
    func work() async {
        while let batches = await queue.next() {
            aggregator.apply(batches)
        }
    }
}
