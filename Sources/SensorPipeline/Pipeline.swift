public import SensorCore
public import SensorStore
public import ServiceLifecycle
public import Logging
internal import Metrics
internal import Synchronization

/// The ingest pipeline: bounded per-shard queues, one aggregation worker per shard and a
/// periodic flusher writing dirty buckets to the store.
///
/// Series are hashed to shards (``SeriesKey/stableHash``), so each worker owns its series
/// exclusively. Run it as a service: on graceful shutdown it stops taking readings, lets
/// the workers drain their queues and flushes everything before `run()` returns.
public final class Pipeline: Service, Sendable {
    /// What became of a submitted batch.
    public enum SubmitOutcome: Sendable, Equatable {
        /// Every reading is queued and will be aggregated and flushed.
        case accepted
        /// Some shard had no room within the allowed wait; nothing was taken.
        case queueFull
        /// The pipeline is shutting down; nothing was taken.
        case closed
    }

    public let configuration: PipelineConfiguration
    public let metrics = IngestMetrics()
    private let shards: [Shard]
    private let flusher: Flusher
    private let accepting = Atomic<Bool>(true)
    private let logger: Logger
    private let depthGauges: [Gauge]
    /// Flush triggers: the interval timer and shards over their pending-bucket limit.
    /// Coalesced: a trigger arriving during a flush causes one more flush, not many.
    private let flushTriggers: AsyncStream<Void>
    private let triggerFlush: AsyncStream<Void>.Continuation

    public init(configuration: PipelineConfiguration, store: SensorStore, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        let shards = (0..<configuration.shards).map { index in
            Shard(
                index: index,
                queue: IngestQueue(capacity: configuration.queueCapacity),
                aggregator: ShardAggregator(resolutions: configuration.resolutions),
                pendingBucketLimit: max(1, configuration.maxPendingBuckets / configuration.shards))
        }
        (flushTriggers, triggerFlush) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.shards = shards
        self.flusher = Flusher(shards: shards, store: store, logger: logger)
        self.depthGauges = shards.map { Gauge(label: "sensorhub_queue_depth", dimensions: [("shard", "\($0.index)")]) }
        for shard in shards {
            Gauge(label: "sensorhub_queue_capacity", dimensions: [("shard", "\(shard.index)")])
                .record(configuration.queueCapacity)
        }
    }

    /// Whether new readings are taken (false once shutdown began).
    public var isAccepting: Bool { accepting.load(ordering: .relaxed) }

    /// Readings waiting in all queues.
    public var queuedReadings: Int { shards.reduce(0) { $0 + $1.queue.depth } }

    /// Submits a batch atomically: either every reading is queued or none is. Waits for
    /// room up to `wait`, then gives up with ``SubmitOutcome/queueFull`` (HTTP's 503 path).
    public func submit(_ readings: [Reading], waitingUpTo wait: Duration) async -> SubmitOutcome {
        guard !readings.isEmpty else { return isAccepting ? .accepted : .closed }
        let parts = partition(readings)
        let deadline = ContinuousClock.now + wait
        while true {
            guard isAccepting else { return .closed }
            if reserveAll(parts) {
                for (index, part) in parts.enumerated() where !part.isEmpty {
                    shards[index].queue.enqueueReserved(part)
                }
                return .accepted
            }
            guard ContinuousClock.now < deadline else { return .queueFull }
            // Room frees up as workers take batches; a short poll keeps this path simple
            // and costs nothing while the queues have room.
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Submits a batch from a thread outside Swift concurrency (libmosquitto's network
    /// thread), blocking it for as long as a queue is full: while it blocks, the MQTT
    /// acknowledgement is not sent and the broker keeps the backlog. Returns false when
    /// the pipeline is shutting down.
    public func submitBlocking(_ readings: [Reading]) -> Bool {
        guard isAccepting else { return false }
        for (index, part) in partition(readings).enumerated() where !part.isEmpty {
            guard shards[index].queue.reserveBlocking(part.count) else { return false }
            shards[index].queue.enqueueReserved(part)
        }
        return true
    }

    /// Runs workers and the periodic flusher until graceful shutdown or cancellation,
    /// then drains the queues and writes the last buckets.
    public func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await self.flushOnTriggers() }
                    await withTaskGroup(of: Void.self) { running in
                        running.addTask { await self.tickFlushes() }
                        await withDiscardingTaskGroup { workers in
                            for shard in shards {
                                workers.addTask { await shard.work { self.triggerFlush.yield() } }
                            }
                        }
                        running.cancelAll()
                    }
                    // Ends the flush loop after the flush it may be running: cancelling it
                    // would interrupt that write and make the last flush redo it.
                    triggerFlush.finish()
                }
                // The last flush must not inherit a cancellation, or the store would refuse it.
                let flushed = await Task { await self.flusher.flush() }.value
                if flushed {
                    logger.info("flushed all buckets")
                } else {
                    logger.error("could not write the last buckets to the store")
                }
            } onGracefulShutdown: {
                self.stopAccepting()
            }
        } onCancel: {
            self.stopAccepting()
        }
    }

    /// Stops taking readings; queued readings are still aggregated and flushed.
    public func stopAccepting() {
        guard accepting.exchange(false, ordering: .acquiringAndReleasing) else { return }
        logger.info("stopped accepting readings, draining queues", metadata: ["queued": "\(queuedReadings)"])
        for shard in shards { shard.queue.finish() }
    }

    /// Triggers a flush every interval.
    private func tickFlushes() async {
        while true {
            do {
                try await Task.sleep(for: configuration.flushInterval)
            } catch {
                return
            }
            triggerFlush.yield()
        }
    }

    /// Flushes once per (coalesced) trigger until the trigger stream is finished.
    private func flushOnTriggers() async {
        for await _ in flushTriggers {
            for (shard, gauge) in zip(shards, depthGauges) { gauge.record(shard.queue.depth) }
            await flusher.flush()
        }
    }

    private func partition(_ readings: [Reading]) -> [[Reading]] {
        let count = UInt64(shards.count)
        if count == 1 { return [readings] }
        // One series (every single-reading MQTT message): no per-shard arrays to build.
        if let first = readings.first, readings.allSatisfy({ $0.device == first.device && $0.metric == first.metric }) {
            var parts = [[Reading]](repeating: [], count: shards.count)
            parts[Int(first.series.stableHash % count)] = readings
            return parts
        }
        var parts = [[Reading]](repeating: [], count: shards.count)
        for reading in readings {
            parts[Int(reading.series.stableHash % count)].append(reading)
        }
        return parts
    }

    /// Reserves room for every part or for none.
    private func reserveAll(_ parts: [[Reading]]) -> Bool {
        var reserved: [Int] = []
        for (index, part) in parts.enumerated() where !part.isEmpty {
            guard shards[index].queue.tryReserve(part.count) else {
                for done in reserved { shards[done].queue.cancelReservation(parts[done].count) }
                return false
            }
            reserved.append(index)
        }
        return true
    }
}
