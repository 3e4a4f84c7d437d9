import Benchmark
import Foundation
import SensorCore
import SensorPipeline
import SensorStore
import Synchronization

// SensorHub micro and throughput benchmarks (package-benchmark). See ../../README.md for
// how to run them and what each one measures.

/// The harness stream: 1000 devices × 4 metrics, 400,000 readings over 600 s.
let stream = HarnessReadings()

/// The whole stream as 4000 native JSON array bodies of 100 readings (≈ 34 MB).
let allJSONBodies: [[UInt8]] = stream.jsonBodies(batch: 100)

/// The first 4000 readings (every series once) as 40 bodies of 100, for the decoders.
let decodeJSONBodies: [[UInt8]] = (0..<40).map { stream.jsonArray($0 * 100..<($0 + 1) * 100) }
let decodeLineBodies: [[UInt8]] = (0..<40).map { stream.lineProtocol($0 * 100..<($0 + 1) * 100) }

/// Values and event times (µs) of the whole stream, in stream order.
let streamValues: [Double] = (0..<stream.count).map { Double(stream.item($0).milli) / 1_000 }
let streamTimestamps: [Int64] = (0..<stream.count).map { stream.item($0).milliseconds * 1_000 }

enum BenchMetrics {
    static let readingsPerSecond = BenchmarkMetric.custom("readings/s", polarity: .prefersLarger, useScalingFactor: false)
    static let deltasPerSecond = BenchmarkMetric.custom("bucket deltas/s", polarity: .prefersLarger, useScalingFactor: false)
    static let walPages = BenchmarkMetric.custom("WAL pages written", useScalingFactor: false)
    static let databaseSize = BenchmarkMetric.custom("database file (MiB)", useScalingFactor: false)
    static let submitPhase = BenchmarkMetric.custom("decode+submit phase (ms)", useScalingFactor: false)
    static let tail = BenchmarkMetric.custom("stop→run() returned (ms)", useScalingFactor: false)
    static let finalFlush = BenchmarkMetric.custom("final flush write (ms)", useScalingFactor: false)
    static let allFlushes = BenchmarkMetric.custom("all flush writes (ms)", useScalingFactor: false)
    static let flushCount = BenchmarkMetric.custom("flushes", useScalingFactor: false)
    static let failedFlushes = BenchmarkMetric.custom("failed flushes", useScalingFactor: false)

    /// Plain numbers for the ms and count metrics (not K/M-scaled).
    static var plainUnits: [BenchmarkMetric: BenchmarkUnits] {
        Dictionary(uniqueKeysWithValues: [walPages, databaseSize, submitPhase, tail, finalFlush, allFlushes, flushCount,
                                          failedFlushes].map { ($0, BenchmarkUnits.count) })
    }
}

/// State a benchmark's setup hook prepares and its iterations use.
final class Fixture<Value: Sendable>: Sendable {
    private let slot = Mutex<Value?>(nil)
    func set(_ value: Value?) { slot.withLock { $0 = value } }
    var value: Value? { slot.withLock { $0 } }
}

let storeWriteFixture = Fixture<(scratch: ScratchStore, batch: FlushBatch)>()
let storeSmallFixture = Fixture<(scratch: ScratchStore, batch: FlushBatch)>()
let storeNewWindowsFixture = Fixture<ScratchStore>()

let benchmarks: @Sendable () -> Void = {
    FlushProbe.bootstrapOnce()

    let micro = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal, BenchMetrics.readingsPerSecond],
        warmupIterations: 100, maxDuration: .seconds(3), maxIterations: 100_000)

    // MARK: decode

    Benchmark("decode.nativeJSON.100", configuration: micro) { benchmark in
        decodeIteration(benchmark, bodies: decodeJSONBodies, format: .json)
    }

    Benchmark("decode.lineProtocol.100", configuration: micro) { benchmark in
        decodeIteration(benchmark, bodies: decodeLineBodies, format: .lineProtocol)
    }

    // MARK: aggregate

    Benchmark(
        "aggregate.bucketStats.add",
        configuration: .init(
            metrics: [.wallClock, .mallocCountTotal, BenchMetrics.readingsPerSecond],
            warmupIterations: 3, maxDuration: .seconds(3), maxIterations: 1_000)
    ) { benchmark in
        // One bucket per series, the whole stream added in stream order (400,000 adds).
        let seriesCount = stream.seriesCount
        var buckets = [BucketStats](repeating: BucketStats(), count: seriesCount)
        let rounds = streamValues.count / seriesCount
        benchmark.startMeasurement()
        let started = ContinuousClock.now
        streamValues.withUnsafeBufferPointer { values in
            streamTimestamps.withUnsafeBufferPointer { timestamps in
                buckets.withUnsafeMutableBufferPointer { buckets in
                    for round in 0..<rounds {
                        let base = round * seriesCount
                        for series in 0..<seriesCount {
                            buckets[series].add(values[base + series], at: timestamps[base + series])
                        }
                    }
                }
            }
        }
        let elapsed = ContinuousClock.now - started
        benchmark.stopMeasurement()
        blackHole(buckets)
        benchmark.measurement(BenchMetrics.readingsPerSecond, Int(Double(rounds * seriesCount) / elapsed.seconds))
    }

    // MARK: store

    let storeConfiguration = Benchmark.Configuration(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, BenchMetrics.deltasPerSecond, BenchMetrics.walPages,
                  BenchMetrics.databaseSize],
        units: BenchMetrics.plainUnits,
        warmupIterations: 2, maxDuration: .seconds(10), maxIterations: 200)

    // Steady state: the series exist and each open bucket is the store's cached one, so
    // every delta of an iteration is merged in memory and written with one UPDATE. Two
    // databases: one that already holds an hour of buckets for every series (what a daemon
    // has after an hour), and one that holds only these 12,000 buckets.
    Benchmark(
        "store.write.12k", configuration: storeConfiguration,
        closure: { benchmark in await storeWriteIteration(benchmark, storeWriteFixture) },
        setup: {
            let scratch = try await ScratchStore.open()
            for batch in FlushBatchFixture.history(stream) { try await scratch.store.write(batch) }
            let batch = FlushBatchFixture.batch(stream)
            try await scratch.store.write(batch)
            storeWriteFixture.set((scratch, batch))
        },
        teardown: {
            await storeWriteFixture.value?.scratch.remove()
            storeWriteFixture.set(nil)
        })

    Benchmark(
        "store.write.12k.smallDB", configuration: storeConfiguration,
        closure: { benchmark in await storeWriteIteration(benchmark, storeSmallFixture) },
        setup: {
            let scratch = try await ScratchStore.open()
            let batch = FlushBatchFixture.batch(stream)
            try await scratch.store.write(batch)
            storeSmallFixture.set((scratch, batch))
        },
        teardown: {
            await storeSmallFixture.value?.scratch.remove()
            storeSmallFixture.set(nil)
        })

    Benchmark(
        "store.write.12k.newWindows", configuration: storeConfiguration,
        closure: { benchmark in
            guard let scratch = storeNewWindowsFixture.value else { return benchmark.error("setup did not run") }
            // Every iteration moves all 12,000 windows to an hour the database has not seen:
            // the INSERT path a flush takes when buckets roll over.
            let batch = FlushBatchFixture.batch(stream, windowShift: Int64(benchmark.currentIteration + 1))
            await timedWrite(benchmark, scratch, batch)
        },
        setup: {
            let scratch = try await ScratchStore.open()
            try await scratch.store.write(FlushBatchFixture.batch(stream))
            storeNewWindowsFixture.set(scratch)
        },
        teardown: {
            await storeNewWindowsFixture.value?.remove()
            storeNewWindowsFixture.set(nil)
        })

    // MARK: pipeline

    let endToEnd = Benchmark.Configuration(
        metrics: [.wallClock, .cpuTotal, .peakMemoryResident, .mallocCountTotal, BenchMetrics.readingsPerSecond,
                  BenchMetrics.submitPhase, BenchMetrics.tail, BenchMetrics.finalFlush, BenchMetrics.allFlushes,
                  BenchMetrics.flushCount, BenchMetrics.failedFlushes],
        units: BenchMetrics.plainUnits,
        warmupIterations: 1, maxDuration: .seconds(60), maxIterations: 5)

    // The daemon's defaults: flush every second, or earlier once 100,000 buckets are pending.
    Benchmark("pipeline.endToEnd", configuration: endToEnd) { benchmark in
        await endToEndIteration(benchmark, PipelineRun.configuration(flushInterval: .seconds(1), maxPendingBuckets: nil))
    }

    // Periodic flushes every 250 ms compete with ingest for the 2 cores.
    Benchmark("pipeline.endToEnd.flush250ms", configuration: endToEnd) { benchmark in
        await endToEndIteration(benchmark, PipelineRun.configuration(flushInterval: .milliseconds(250), maxPendingBuckets: nil))
    }

    // No flush before the end (interval 1 h, no pending-bucket limit): every bucket goes into
    // the final flush, whose write time is then the store's share of the run.
    Benchmark("pipeline.endToEnd.finalFlushOnly", configuration: endToEnd) { benchmark in
        await endToEndIteration(benchmark, PipelineRun.configuration(flushInterval: .seconds(3_600), maxPendingBuckets: .max))
    }

    // MARK: query (QueryBenchmarks.swift)

    registerQueryBenchmarks()
}

/// Decodes one 100-reading body (cycling through 40 bodies that cover every series).
func decodeIteration(_ benchmark: Benchmark, bodies: [[UInt8]], format: PayloadFormat) {
    let body = bodies[benchmark.currentIteration % bodies.count]
    let context = DecodeContext(arrivalTime: 1_764_165_600_000_000)
    let started = ContinuousClock.now
    let readings: [Reading]
    do {
        readings = try ReadingDecoder.decode(body, format: format, context: context)
    } catch {
        return benchmark.error("\(format) body did not decode: \(error.message)")
    }
    let elapsed = ContinuousClock.now - started
    blackHole(readings)
    benchmark.measurement(BenchMetrics.readingsPerSecond, Int(Double(readings.count) / elapsed.seconds))
    if benchmark.currentIteration == 0 {
        // Once: the decoder must return exactly the stream's first 100 readings.
        if readings != (0..<100).map(stream.reading) {
            benchmark.error("\(format) decoding differs from the generated readings")
        }
    }
}

/// Writes the fixture's batch once, timed.
func storeWriteIteration(_ benchmark: Benchmark, _ fixture: Fixture<(scratch: ScratchStore, batch: FlushBatch)>) async {
    guard let (scratch, batch) = fixture.value else { return benchmark.error("setup did not run") }
    await timedWrite(benchmark, scratch, batch)
}

/// Writes `batch` as one measured flush; reports deltas/s, the pages it appended to the WAL
/// and the size of the database.
func timedWrite(_ benchmark: Benchmark, _ scratch: ScratchStore, _ batch: FlushBatch) async {
    benchmark.startMeasurement()
    let started = ContinuousClock.now
    do {
        try await scratch.store.write(batch)
    } catch {
        benchmark.error("write failed: \(error)")
    }
    let elapsed = ContinuousClock.now - started
    benchmark.stopMeasurement()
    benchmark.measurement(BenchMetrics.deltasPerSecond, Int(Double(batch.bucketCount) / elapsed.seconds))
    benchmark.measurement(BenchMetrics.walPages, scratch.walFramesOfLastWrite())
    benchmark.measurement(BenchMetrics.databaseSize, scratch.databaseBytes() / 1_048_576)
}

func endToEndIteration(_ benchmark: Benchmark, _ configuration: PipelineConfiguration) async {
    do {
        let outcome = try await PipelineRun.measure(
            benchmark, bodies: allJSONBodies, expectedReadings: stream.count, configuration: configuration)
        benchmark.measurement(BenchMetrics.readingsPerSecond, Int(Double(outcome.readings) / outcome.total.seconds))
        benchmark.measurement(BenchMetrics.submitPhase, outcome.submitPhase.microseconds / 1_000)
        benchmark.measurement(BenchMetrics.tail, outcome.tail.microseconds / 1_000)
        benchmark.measurement(BenchMetrics.finalFlush, Int((outcome.flushWrites.last ?? 0) / 1_000_000))
        benchmark.measurement(BenchMetrics.allFlushes, Int(outcome.flushWrites.reduce(0, +) / 1_000_000))
        benchmark.measurement(BenchMetrics.flushCount, outcome.flushWrites.count)
        benchmark.measurement(BenchMetrics.failedFlushes, Int(outcome.failedFlushes))
        reportOnce(outcome.logged.map { "\(benchmark.name): pipeline logged \($0)" })
    } catch {
        benchmark.error("end-to-end run failed: \(error)")
    }
}

private let reported = Mutex<Set<String>>([])

/// Writes each distinct line to stderr once per process (the pipeline's warnings and errors).
func reportOnce(_ lines: [String]) {
    let fresh = reported.withLock { seen in lines.filter { seen.insert($0).inserted } }
    for line in fresh { FileHandle.standardError.write(Data((line + "\n").utf8)) }
}
