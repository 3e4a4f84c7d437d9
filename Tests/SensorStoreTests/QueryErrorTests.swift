import SensorCore
@testable import SensorStore
import Testing

@Suite struct QueryErrorTests {
    @Test func windowNotMultipleNamesStoredResolutions() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        let error = await #expect(throws: StoreError.self) {
            _ = try await store.aggregates(AggregateQuery(window: res("7s")))
        }
        #expect(error == .windowNotMultiple(window: res("7s"), stored: defaultResolutions))
        #expect(error?.description.contains("window 7s is not a multiple of a stored resolution (10s, 1m, 1h)") == true,
                "message was: \(error?.description ?? "-")")
    }

    @Test func stepNotMultipleNamesStoredResolutions() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        let error = await #expect(throws: StoreError.self) {
            _ = try await store.aggregates(AggregateQuery(window: res("1m"), step: res("15s")))
        }
        #expect(error?.description.contains("step 15s is not a multiple of a stored resolution (10s, 1m, 1h)") == true,
                "message was: \(error?.description ?? "-")")
    }

    @Test func windowAndStepWithoutCommonResolution() throws {
        let stored = [res("4s"), res("6s")]
        #expect(throws: StoreError.noCommonResolution(window: res("8s"), step: res("6s"), stored: stored)) {
            _ = try WindowPlan(query: AggregateQuery(window: res("8s"), step: res("6s")), stored: stored)
        }
    }

    @Test func fromNotBeforeToIsAnError() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        await #expect(throws: StoreError.emptyRange(from: t0, to: t0)) {
            _ = try await store.aggregates(AggregateQuery(window: res("1m"), from: t0, to: t0))
        }
    }

    @Test func noRegisteredResolutions() async throws {
        let dir = try TempDirectory()
        let store = try SensorStore(path: dir.file("x.db"), mode: .readWrite)
        await #expect(throws: StoreError.noStoredResolutions) {
            _ = try await store.aggregates(AggregateQuery(window: res("1m")))
        }
    }

    @Test func registerResolutionsReplacesTheSet() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        #expect(try await store.storedResolutions() == defaultResolutions)
        try await store.registerResolutions([res("1h"), res("1m"), res("1m")])
        #expect(try await store.storedResolutions() == [res("1m"), res("1h")])
    }

    @Test func misalignedBucketIsRejectedAndNothingIsWritten() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        var batch = makeBatch(makeReadings(devices: ["d"], metrics: ["m"], start: t0, span: minute, perSeries: 10))
        var stats = BucketStats()
        stats.add(1, at: t0 + 3 * second)
        batch.buckets.append(Bucket(series: SeriesKey(device: "d", metric: "m"), resolution: res("10s"), windowStart: t0 + 3 * second, stats: stats))
        await #expect(throws: StoreError.self) { try await store.write(batch) }
        #expect(try await store.devices().isEmpty)
    }

    @Test func failedTransactionWritesNothingAndLeavesTheStoreUsable() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        let good = makeReadings(devices: ["d"], metrics: ["m"], start: t0, span: minute, perSeries: 10)
        var batch = makeBatch(good)
        // NaN is stored as NULL by SQLite and violates NOT NULL: the transaction fails after
        // the series row for "new" was inserted; it must roll back, and its id not be cached.
        let poison = BucketStats(count: 1, sum: .nan, min: .nan, max: .nan, mean: .nan, m2: 0,
                                 firstTimestamp: t0, first: .nan, lastTimestamp: t0, last: .nan)
        batch.buckets.append(Bucket(series: SeriesKey(device: "new", metric: "m"), resolution: res("10s"), windowStart: t0, stats: poison))
        await #expect(throws: StoreError.self) { try await store.write(batch) }
        #expect(try await store.devices().isEmpty, "a failed batch left rows behind")

        let later = makeReadings(devices: ["new", "d"], metrics: ["m"], start: t0, span: minute, perSeries: 10, seed: 9)
        try await store.write(makeBatch(later))
        expectRows(try await store.aggregates(AggregateQuery(window: res("1m"))), equal: expectedWindows(later, window: minute))
    }
}
