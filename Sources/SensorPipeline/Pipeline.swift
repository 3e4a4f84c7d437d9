public import SensorCore
public import SensorStore
public import ServiceLifecycle
public import Logging
internal import Metrics
internal import Synchronization

/// The ingest pipeline: per-shard de-duplication and journal, bounded queues, one
/// aggregation worker per shard and a flusher writing dirty buckets and journal
/// checkpoints to the store.
///
/// Series are hashed to shards (``SeriesKey/stableHash``), so each worker owns its series
/// exclusively. Run it as a service: it first replays the journal (``phase`` is
/// `recovering`), then takes readings; on graceful shutdown it stops taking readings, lets
/// the workers drain their queues and flushes everything before `run()` returns.
public final class Pipeline: Service, Sendable {
    /// Where the pipeline is in its life.
    public enum Phase: UInt8, Sendable {
        /// Replaying the journal; readings are refused until it is done.
        case recovering
        /// Taking readings.
        case accepting
        /// Shutting down (or recovery failed); readings are refused.
        case stopping
    }

    /// What became of a submitted batch.
    public enum SubmitOutcome: Sendable, Equatable {
        /// The batch is durable and will be counted: `accepted` new readings, `duplicates`
        /// dropped because their seq was already counted.
        case accepted(accepted: Int, duplicates: Int)
        /// Some shard had no room within the allowed wait; nothing was taken.
        case queueFull
        /// The pipeline is recovering or shutting down; nothing was taken.
        case unavailable(Phase)
        /// The journal cannot be written (disk full, permissions…); nothing was taken.
        case journalFailed(String)
        /// A reading is outside the time rules or the series limits; nothing was taken.
        case rejected(DecodeError)
    }

    public let configuration: PipelineConfiguration
    let metrics = IngestMetrics()
    /// Every series held, for the series limits.
    let series: SeriesRegistry
    /// Parts of identified batches taken, so a batch sent again is not counted twice.
    let batchLedger = BatchLedger()
    let shards: [Shard]
    let flusher: Flusher
    public let journal: JournalConfiguration
    let store: any FlushStore
    let logger: Logger
    private let phaseValue = Atomic<UInt8>(Phase.recovering.rawValue)
    /// Fires once recovery is over (whether it succeeded or not).
    public let recovered = OneShotEvent()
    /// Every flush's written buckets, for live subscribers.
    public let live: LiveFeed
    private let depthGauges: [Gauge]
    /// Why the last journal append failed; nil once one succeeds (logged once per stretch).
    let journalFailure = Mutex<String?>(nil)
    let journalFailing = Atomic<Bool>(false)
    /// Why the journal stopped for good (a failed sync), if it did; only a restart clears it.
    let journalFatal = Mutex<String?>(nil)

    /// Why readings cannot be made durable right now (the last journal append failed and
    /// none succeeded since), or nil.
    var journalProblem: String? { journalFatal.withLock { $0 } ?? journalFailure.withLock { $0 } }

    /// Why the daemon is degraded (readings are taken but cannot all be stored, CONTRACT
    /// §1), or nil: the journal cannot be written, the store cannot be written, or buckets
    /// were set aside.
    public var degradation: String? {
        if let journalProblem { return "cannot write the journal: \(journalProblem)" }
        if let storeProblem = flusher.health.problem { return storeProblem }
        let setAside = store.setAsideBuckets
        if setAside > 0 {
            return "\(setAside) bucket(s) could not be stored and were set aside in the table set_aside_buckets (see the log); the rest is stored"
        }
        return nil
    }
    /// Flush triggers: the interval timer and shards over their pending-bucket limit.
    /// Coalesced: a trigger arriving during a flush causes one more flush, not many.
    private let flushTriggers: AsyncStream<Void>
    private let triggerFlush: AsyncStream<Void>.Continuation

    public init(configuration: PipelineConfiguration, journal: JournalConfiguration, store: any FlushStore, logger: Logger) {
        // A batch part names its shard in 16 bits (``BatchPart``); settings allow 1…1024.
        precondition(configuration.shards <= Int(UInt16.max), "at most \(UInt16.max) shards")
        self.configuration = configuration
        self.journal = journal
        self.store = store
        self.logger = logger
        let series = SeriesRegistry(limits: configuration.limits, shardCount: configuration.shards)
        self.series = series
        let share = PendingLimit(
            buckets: max(1, configuration.maxPendingBuckets / configuration.shards),
            bytes: max(1, configuration.maxPendingBytes / configuration.shards))
        let shards = (0..<configuration.shards).map { index in
            Shard(
                index: index,
                ingress: ShardIngress(queue: IngestQueue(capacity: configuration.queueCapacity)),
                aggregator: ShardAggregator(
                    resolutions: configuration.resolutions, names: SeriesNames(shard: index, of: series), limit: share,
                    holdsSequenced: store.deduplicatesAtFlush))
        }
        (flushTriggers, triggerFlush) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.shards = shards
        self.live = LiveFeed(capacity: configuration.liveBufferCapacity, maxSubscribers: configuration.maxLiveSubscribers)
        self.flusher = Flusher(shards: shards, store: store, live: live, delay: configuration.flushDelay, logger: logger)
        self.depthGauges = shards.map { Gauge(label: "sensorhub_queue_depth", dimensions: [("shard", "\($0.index)")]) }
        for shard in shards {
            Gauge(label: "sensorhub_queue_capacity", dimensions: [("shard", "\(shard.index)")])
                .record(configuration.queueCapacity)
        }
    }

    public var phase: Phase { Phase(rawValue: phaseValue.load(ordering: .acquiring)) ?? .stopping }

    /// Whether new readings are taken (recovery done, shutdown not begun).
    public var isAccepting: Bool { phase == .accepting }

    /// Readings waiting in all queues.
    public var queuedReadings: Int { shards.reduce(0) { $0 + $1.queue.depth } }

    /// Recovers from the journal, then runs workers and the periodic flusher until
    /// graceful shutdown or cancellation, then drains the queues and writes the last
    /// buckets. Throws when recovery fails (the database or journal cannot be read).
    public func run() async throws {
        // Recovery's flush needs no journal sync: it commits every replayed record's buckets
        // with the windows that count them, and the replayed segments are then deleted.
        try await open()
        var syncer: JournalSyncer?
        if journal.enabled, case .interval(let interval) = journal.sync {
            let periodic = JournalSyncer(ingresses: shards.map(\.ingress), interval: interval) { [self] error in
                journalFailedForGood(error)
            }
            await flusher.syncJournals(with: periodic)
            periodic.start()
            syncer = periodic
        }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                if phase != .accepting { stopAccepting() }
                await runWorkers()
            } onGracefulShutdown: {
                self.stopAccepting()
            }
        } onCancel: {
            self.stopAccepting()
        }
        await syncer?.stop()
    }

    /// Recovers, then takes readings (unless shutdown began meanwhile). Signals
    /// ``recovered`` either way.
    func open() async throws {
        do {
            try await recover()
        } catch {
            phaseValue.store(Phase.stopping.rawValue, ordering: .releasing)
            recovered.signal()
            throw error
        }
        _ = phaseValue.compareExchange(expected: Phase.recovering.rawValue, desired: Phase.accepting.rawValue, ordering: .acquiringAndReleasing)
        recovered.signal()
    }

    private func runWorkers() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.flushOnTriggers() }
            await withTaskGroup(of: Void.self) { running in
                running.addTask { await self.tickFlushes() }
                running.addTask { await self.enforceRetention() }
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
            logger.error("could not write the last buckets to the store; the journal keeps them for the next start")
        }
    }

    /// Has `observer` told of every committed flush from now on (call before ``run()``).
    public func observeFlushes(with observer: any FlushObserver) async {
        await flusher.observe(with: observer)
    }

    /// Stops taking readings; queued readings are still aggregated and flushed.
    public func stopAccepting() {
        let previous = phaseValue.exchange(Phase.stopping.rawValue, ordering: .acquiringAndReleasing)
        guard previous != Phase.stopping.rawValue else { return }
        logger.info("stopped accepting readings, draining queues", metadata: ["queued": "\(queuedReadings)"])
        for shard in shards { shard.queue.finish() }
    }

    /// The way in for `transport` (see ``IngestEntry``); ask once and keep it.
    public func entry(for transport: IngestTransport) -> IngestEntry {
        IngestEntry(transport: transport, pipeline: self)
    }

    /// Checks event times against ``PipelineConfiguration/timeRules`` (now = this clock):
    /// the first reading in the future beyond the skew or older than every retention, as
    /// the error to reject the whole batch with. Counts too-old readings as late_dropped.
    func timeRejection(of readings: [Reading]) -> DecodeError? {
        let now = WallClock.microseconds()
        guard let error = configuration.timeRules.rejection(of: readings, now: now) else { return nil }
        if error.reason == .tooLate {
            metrics.recordLateDropped(configuration.timeRules.tooLateCount(of: readings, now: now))
        }
        return error
    }

    /// Deletes expired buckets every retention interval (the first pass soon after start),
    /// and counts the set-aside buckets again.
    private func enforceRetention() async {
        var pause: Duration = .seconds(5)
        while true {
            do {
                try await Task.sleep(for: pause)
            } catch {
                return
            }
            pause = configuration.retentionInterval
            // Set-aside rows an operator removed stop making the daemon degraded.
            try? await store.recountSetAsideBuckets()
            let now = WallClock.microseconds()
            let forgetBefore = now - BatchLedger.retention.microseconds
            batchLedger.forget(takenBefore: forgetBefore)
            do {
                _ = try await store.forgetBatches(takenBefore: forgetBefore)
            } catch {
                if case .cancelled = error { return }
                logger.error("could not delete old batch ledger rows; retrying at the next pass", metadata: ["error": "\(error)"])
            }
            for (resolution, kept) in configuration.timeRules.retention.sorted(by: { $0.key < $1.key }) {
                do {
                    let deleted = try await store.deleteBuckets(of: resolution, startingBefore: now - kept.microseconds)
                    if deleted > 0 {
                        logger.info("retention deleted expired buckets", metadata: ["resolution": "\(resolution)", "chunks": "\(deleted)"])
                    }
                } catch {
                    if case .cancelled = error { return }
                    logger.error("retention pass failed; retrying at the next one", metadata: ["resolution": "\(resolution)", "error": "\(error)"])
                }
            }
        }
    }

    /// Triggers a flush every interval, and sooner once a burst ended (``FlushCadence``).
    private func tickFlushes() async {
        let clock = ContinuousClock()
        var cadence = FlushCadence(interval: configuration.flushInterval, start: clock.now, applied: appliedReadings)
        while true {
            do {
                try await Task.sleep(until: cadence.nextLook(after: clock.now), clock: clock)
            } catch {
                return
            }
            if cadence.shouldFlush(at: clock.now, applied: appliedReadings) { triggerFlush.yield() }
        }
    }

    /// Readings the workers applied since the start, all shards together.
    private var appliedReadings: Int { shards.reduce(0) { $0 + $1.aggregator.appliedReadings } }

    /// Flushes once per (coalesced) trigger until the trigger stream is finished.
    private func flushOnTriggers() async {
        for await _ in flushTriggers {
            for (shard, gauge) in zip(shards, depthGauges) { gauge.record(shard.queue.depth) }
            await flusher.flush()
        }
    }
}
