import Benchmark
import Foundation
import SensorCore
import SensorPipeline
import SensorStore

/// One end-to-end run of the ingest path on pre-rendered JSON bodies: decode each body,
/// `Pipeline.submit` it from `producers` concurrent tasks, then `stopAccepting()` and wait
/// for `run()` to return (workers drain their queues, the last flush is written).
///
/// Opening the store and starting the pipeline happen before `startMeasurement()`; the
/// check that the store counted every reading and the clean-up happen after
/// `stopMeasurement()`.
enum PipelineRun {
    struct Outcome {
        var readings = 0
        var notAccepted = 0
        var decodeFailures = 0
        /// From the first decode to the last accepted submit.
        var submitPhase: Duration = .zero
        /// From `stopAccepting()` to `run()` returning: draining the queues + the last flush.
        var tail: Duration = .zero
        var total: Duration = .zero
        /// `SQLiteStore.write` time of every flush of the run, in order; the last one is
        /// the final flush.
        var flushWrites: [Int64] = []
        /// Flushes whose write failed (or was cancelled); their buckets went into a later one.
        var failedFlushes: Int64 = 0
        /// What the pipeline logged at warning level or above.
        var logged: [String] = []
    }

    /// The daemon's shape: 2 shards, queues of 65,536 readings, 10s/1m/1h. `maxPendingBuckets`
    /// nil keeps the daemon's default (an early flush once that many buckets are pending).
    static func configuration(flushInterval: Duration, maxPendingBuckets: Int?) -> PipelineConfiguration {
        var configuration = PipelineConfiguration(shards: 2, queueCapacity: 65_536, resolutions: ScratchStore.resolutions,
                                                  flushInterval: flushInterval)
        if let maxPendingBuckets { configuration.maxPendingBuckets = maxPendingBuckets }
        return configuration
    }

    static func measure(_ benchmark: Benchmark, bodies: [[UInt8]], expectedReadings: Int,
                        configuration: PipelineConfiguration, producers: Int = 2) async throws -> Outcome {
        let scratch = try await ScratchStore.open()
        do {
            let outcome = try await measure(benchmark, bodies: bodies, expectedReadings: expectedReadings,
                                            configuration: configuration, producers: producers, in: scratch)
            await scratch.remove()
            return outcome
        } catch {
            await scratch.remove()
            throw error
        }
    }

    private static func measure(_ benchmark: Benchmark, bodies: [[UInt8]], expectedReadings: Int,
                                configuration: PipelineConfiguration, producers: Int,
                                in scratch: ScratchStore) async throws -> Outcome {
        FlushProbe.shared.reset()
        let log = LogCapture()
        // Journal off: the figures in README.md predate the ingest journal, and these
        // benchmarks measure decode + aggregation + flush writes.
        let journal = JournalConfiguration(directory: scratch.directory.appendingPathComponent("journal").path,
                                           enabled: false)
        let pipeline = Pipeline(configuration: configuration, journal: journal, store: scratch.store, logger: log.logger)
        let service = Task { try await pipeline.run() }
        // `run()` opens the store and replays the journal before it accepts readings; a
        // submit before that is answered `unavailable`.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        while !pipeline.isAccepting {
            guard clock.now < deadline else { throw PipelineRunError.neverAccepted }
            try await Task.sleep(for: .milliseconds(1))
        }

        benchmark.startMeasurement()
        let started = clock.now
        var outcome = await withTaskGroup(of: Outcome.self) { group in
            for producer in 0..<producers {
                group.addTask { await feed(pipeline, bodies, producer: producer, of: producers) }
            }
            var sum = Outcome()
            for await part in group {
                sum.readings += part.readings
                sum.notAccepted += part.notAccepted
                sum.decodeFailures += part.decodeFailures
            }
            return sum
        }
        let submitted = clock.now
        pipeline.stopAccepting()
        try await service.value
        let finished = clock.now
        benchmark.stopMeasurement()

        outcome.submitPhase = submitted - started
        outcome.tail = finished - submitted
        outcome.total = finished - started
        outcome.flushWrites = FlushProbe.shared.flushWrites
        outcome.failedFlushes = FlushProbe.shared.failedFlushes
        outcome.logged = log.captured
        let stored = try await scratch.storedReadings()
        if outcome.notAccepted > 0 || outcome.decodeFailures > 0 || stored != Int64(expectedReadings) {
            benchmark.error("""
                end-to-end run lost readings: stored \(stored) of \(expectedReadings), \
                \(outcome.notAccepted) bodies not accepted, \(outcome.decodeFailures) bodies not decoded
                """)
        }
        return outcome
    }

    /// Decodes and submits bodies `producer`, `producer + producers`, … as an HTTP handler
    /// would: through the pipeline's ingest entry.
    private static func feed(_ pipeline: Pipeline, _ bodies: [[UInt8]], producer: Int, of producers: Int) async -> Outcome {
        let ingest = pipeline.entry(for: IngestTransport("benchmark"))
        var outcome = Outcome()
        for index in stride(from: producer, to: bodies.count, by: producers) {
            let context = DecodeContext(arrivalTime: Int64(Date().timeIntervalSince1970 * 1_000_000))
            let decoded = bodies[index].withUnsafeBytes { ingest.decode($0, format: .json, context: context) }
            guard case .success(let batch) = decoded else {
                outcome.decodeFailures += 1
                continue
            }
            switch await ingest.submit(batch, waitingUpTo: .seconds(5)) {
            case .accepted: outcome.readings += batch.readings.count
            case .queueFull, .unavailable, .journalFailed, .rejected: outcome.notAccepted += 1
            }
        }
        return outcome
    }
}

enum PipelineRunError: Error {
    /// The pipeline did not start accepting readings within a minute.
    case neverAccepted
}

extension Duration {
    var microseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1_000_000 + Int(attoseconds / 1_000_000_000_000)
    }

    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
