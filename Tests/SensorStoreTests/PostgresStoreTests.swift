import Foundation
@testable import PostgresStore
import SensorCore
@testable import SensorStore
import TestProcesses
import Testing

/// The PostgreSQL store against the SQLite one: the same flushes give the same rows, both
/// checked against the raw readings, on a real PostgreSQL server each test starts itself.
@Suite struct PostgresStoreTests {
    let devices = ["dev-1", "dev-2", "gw.7:x", "Zeta"]
    let metrics = ["humidity", "temp"]

    /// A SQLite store and a PostgreSQL store, both read-write with the default resolutions.
    struct Pair {
        let server: PostgresServer
        let directory: TempDirectory
        let sqlite: SQLiteStore
        let postgres: PostgresStore

        init(instance: String = "daemon-a") async throws {
            server = try await onOwnThread { try PostgresServer() }
            directory = try TempDirectory()
            sqlite = try await makeStore(directory)
            postgres = try await PostgresStore.open(try PostgresLocation(url: server.url), instance: instance, mode: .readWrite)
            try await postgres.registerResolutions(defaultResolutions)
        }

        func write(_ batch: FlushBatch) async throws {
            try await sqlite.write(batch)
            try await postgres.write(batch)
        }

        func close() async {
            try? await sqlite.close()
            try? await postgres.close()
            await onOwnThread { [server] in server.cleanUp() }
        }
    }

    /// Runs `body` on a new pair, closing it (and stopping the server) however it ends.
    func withPair(instance: String = "daemon-a", _ body: (Pair) async throws -> Void) async throws {
        let pair = try await Pair(instance: instance)
        do {
            try await body(pair)
        } catch {
            await pair.close()
            throw error
        }
        await pair.close()
    }

    /// A second daemon's store on the pair's database.
    func secondDaemon(_ pair: Pair) async throws -> PostgresStore {
        try await PostgresStore.open(try PostgresLocation(url: pair.server.url), instance: "daemon-b", mode: .readWrite)
    }

    /// Time-ordered flushes, every third one also carrying late readings for old windows.
    func flushes(seed: UInt64) -> [FlushBatch] {
        let raw = makeReadings(devices: devices, metrics: metrics, start: t0, span: 2 * hour, perSeries: 300, seed: seed)
            .sorted { $0.timestamp < $1.timestamp }
        let late = makeReadings(devices: devices, metrics: metrics, start: t0, span: 10 * minute, perSeries: 20, seed: seed + 1)
        var batches: [FlushBatch] = []
        for (index, start) in stride(from: 0, to: raw.count, by: 200).enumerated() {
            var readings = Array(raw[start..<min(start + 200, raw.count)])
            if index % 3 == 2 {
                let from = (index / 3 * 10) % late.count
                readings += late[from..<min(from + 10, late.count)]
            }
            batches.append(makeBatch(readings))
        }
        return batches
    }

    /// Every query's rows alike in both stores, for partial buckets merged in another order
    /// than the other store's: exact counts, extremes and sketches; sums and moments to rounding.
    func expectSameRows(_ store: any AggregateReader, _ reference: any AggregateReader, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for query in Self.queries {
            let got = try await store.aggregates(query)
            let expected = try await reference.aggregates(query)
            #expect(got.count == expected.count, "\(query)", sourceLocation: sourceLocation)
            for (row, want) in zip(got, expected) {
                #expect(row.series == want.series && row.windowStart == want.windowStart && row.stats.count == want.stats.count, sourceLocation: sourceLocation)
                #expect(row.stats.min == want.stats.min && row.stats.max == want.stats.max && row.percentiles == want.percentiles, sourceLocation: sourceLocation)
                #expect(close(row.stats.sum, want.stats.sum) && close(row.stats.mean, want.stats.mean) && close(row.stats.stddev, want.stats.stddev, relative: 1e-7),
                        sourceLocation: sourceLocation)
            }
        }
    }

    static let queries: [AggregateQuery] = [
        AggregateQuery(window: res("10s")),
        AggregateQuery(window: res("1m")),
        AggregateQuery(window: res("5m"), step: res("1m")),
        AggregateQuery(window: res("1h")),
        AggregateQuery(deviceGlob: "dev-*", metricGlob: "temp", window: res("1m"), from: t0 + 10 * minute, to: t0 + hour),
        AggregateQuery(deviceGlob: "d?v-[12]", window: res("10s"), step: res("10s")),
        AggregateQuery(deviceGlob: "gw.7:x", window: res("2m")),
        AggregateQuery(deviceGlob: "gw?7*", window: res("1m")),
        AggregateQuery(deviceGlob: "nothing*", window: res("1m")),
        AggregateQuery(deviceGlob: "[]d]ev-*", window: res("1m")),
        AggregateQuery(deviceGlob: "[^]g]*", metricGlob: "[]t]*", window: res("1h")),
        AggregateQuery(deviceGlob: "dev[[", window: res("1m")),
        AggregateQuery(deviceGlob: "*", metricGlob: "t[.*", window: res("1m")),
    ]

    @Test func theSameFlushesGiveTheSameRowsAndDevices() async throws {
        try await withPair { pair in
            for batch in flushes(seed: 3) {
                try await pair.write(batch)
            }
            for query in Self.queries {
                let fromSQLite = try await pair.sqlite.aggregates(query)
                let fromPostgres = try await pair.postgres.aggregates(query)
                #expect(fromPostgres == fromSQLite, "\(query)")
            }
            #expect(try await pair.postgres.devices() == pair.sqlite.devices())
            #expect(try await pair.postgres.aggregates(AggregateQuery(window: res("10s"))).count > 1_000)
            // Both refuse an oversized query alike, from the same estimate.
            let wide = AggregateQuery(window: res("10s"))
            var refusals: [StoreError] = []
            for store in [pair.sqlite as any AggregateReader, pair.postgres] {
                do {
                    _ = try await store.aggregates(wide, rowLimit: 100)
                } catch let error as StoreError {
                    refusals.append(error)
                }
            }
            #expect(refusals.count == 2 && refusals[0] == refusals[1], "\(refusals)")
            if case .tooManyRows = refusals.first {} else { Issue.record("not refused for its size: \(refusals)") }
        }
    }

    @Test func rowsMatchTheRawReadings() async throws {
        try await withPair { pair in
            let raw = makeReadings(devices: devices, metrics: metrics, start: t0, span: hour, perSeries: 200, seed: 9)
            try await pair.postgres.write(makeBatch(Array(raw.prefix(900))))
            try await pair.postgres.write(makeBatch(Array(raw.dropFirst(900))))
            for window in ["10s", "1m", "5m", "1h"] {
                expectRows(try await pair.postgres.aggregates(AggregateQuery(window: res(window))), equal: expectedWindows(raw, window: res(window).microseconds))
            }
        }
    }

    /// Daemons of several versions may share a PostgreSQL database, and one built before
    /// form 4 would read such a record as damage: PostgreSQL's chunks keep forms 0–3 for
    /// decimal buckets SQLite writes in form 4. Both answer the same rows.
    @Test func chunksKeepTheFormsEveryVersionReads() async throws {
        try await withPair { pair in
            let raw = (0..<600).map { second in
                Reading(device: "dev-1", metric: "temp", value: Double(2_150 + second % 7) / 100, timestamp: t0 + Int64(second) * 1_000_000)
            }
            try await pair.write(makeBatch(raw))
            /// The record forms of the chunks (hex, as psql prints them); nil if one is damaged.
            func forms(_ hexChunks: [(hex: String, resolution: Resolution, chunkStart: Int64)]) -> Set<UInt8>? {
                var forms = Set<UInt8>()
                for chunk in hexChunks {
                    let bytes = stride(from: 0, to: chunk.hex.count, by: 2).map { offset in
                        UInt8(chunk.hex.dropFirst(offset).prefix(2), radix: 16)!
                    }
                    let read = bytes.withUnsafeBytes { raw -> Set<UInt8>? in
                        do {
                            var reader = try ChunkCodec.Reader(raw, chunkStart: chunk.chunkStart, resolution: chunk.resolution)
                            var found = Set<UInt8>()
                            while let bucket = try reader.next() { found.insert(bytes[bucket.record.lowerBound] >> 5) }
                            return found
                        } catch {
                            return nil
                        }
                    }
                    guard let read else { return nil }
                    forms.formUnion(read)
                }
                return forms
            }
            let query = "SELECT encode(data, 'hex'), resolution_s, chunk_start_us FROM chunks"
            let postgresChunks = try await pair.server.psql(query).split(separator: "\n").map { line in
                let fields = line.split(separator: "|")
                return (String(fields[0]), res("\(fields[1])s"), Int64(fields[2])!)
            }
            #expect(forms(postgresChunks) == [ChunkCodec.Form.any.rawValue])
            #expect(makeBatch(raw).buckets.allSatisfy { ChunkCodec.shortestForm(of: $0.stats) == .decimal }, "what SQLite writes")
            #expect(try await pair.postgres.aggregates(AggregateQuery(window: res("10s"))) == pair.sqlite.aggregates(AggregateQuery(window: res("10s"))))
        }
    }

    @Test func recoveryStateIsPerDaemonForCheckpointsAndSharedForSeries() async throws {
        try await withPair { pair in
            let other = try await secondDaemon(pair)
            // The same readings, judged at ingest for SQLite (its batch carries the
            // window), at flush for PostgreSQL (its batch carries the readings).
            let sequenced = [
                Reading(device: "dev-1", metric: "temp", value: 1, timestamp: t0, seq: 7),
                Reading(device: "dev-1", metric: "temp", value: 2, timestamp: t0 + second, seq: 8),
            ]
            var window = SeqWindow(first: 7, at: t0)
            window.admit(8, at: t0 + second)
            let identity = try #require(BatchIdentity(stream: "import-1", ordinal: 3))
            var judged = makeBatch(sequenced)
            judged.seqWindows = [SeriesKey(device: "dev-1", metric: "temp"): window]
            var unjudged = FlushBatch(groups: [], sequenced: sequenced, resolutions: defaultResolutions)
            judged.checkpoints = [0: 120, 1: 64]
            unjudged.checkpoints = judged.checkpoints
            judged.batchMarks = [BatchMark(identity: identity, part: BatchPart(shards: 2, index: 1))]
            unjudged.batchMarks = judged.batchMarks
            try await pair.sqlite.write(judged)
            try await pair.postgres.write(unjudged)
            var otherDaemons = FlushBatch(groups: [])
            otherDaemons.checkpoints = [0: 999]
            try await other.write(otherDaemons)

            let fromSQLite = try await pair.sqlite.recoveryState()
            let fromPostgres = try await pair.postgres.recoveryState()
            #expect(fromPostgres.checkpoints == [0: 120, 1: 64])
            #expect(fromPostgres.checkpoints == fromSQLite.checkpoints)
            #expect(try await other.recoveryState().checkpoints == [0: 999])
            #expect(fromPostgres.seqWindows == fromSQLite.seqWindows)
            #expect(fromPostgres.series == fromSQLite.series)
            #expect(fromPostgres.takenBatches.map(\.mark) == fromSQLite.takenBatches.map(\.mark))
            #expect(try await pair.postgres.forgetBatches(takenBefore: .max) == 1)
            try await other.close()
        }
    }

    @Test func retentionDeletesTheSameChunks() async throws {
        try await withPair { pair in
            for batch in flushes(seed: 5) { try await pair.write(batch) }
            let cutoff = t0 + hour
            #expect(try await pair.postgres.deleteBuckets(of: res("10s"), startingBefore: cutoff) == pair.sqlite.deleteBuckets(of: res("10s"), startingBefore: cutoff))
            for query in Self.queries {
                #expect(try await pair.postgres.aggregates(query) == pair.sqlite.aggregates(query), "\(query)")
            }
        }
    }

    @Test func ruleStatesAndTheOutboxBehaveAlike() async throws {
        try await withPair { pair in
            let series = SeriesKey(device: "gh-1", metric: "temp")
            let firing = AlertState(phase: .firing, streak: 3, streakStart: t0, lastWindowEnd: t0 + minute, since: t0, value: 31.5)
            let commit = RuleCommit(
                states: [RuleStateChange(rule: "hot", series: series, state: firing)],
                positions: ["hot": t0 + minute, "forward 1m": t0],
                deliveries: (0..<4).map { Delivery(channel: Delivery.webhookChannel("http://x/hook"), rule: "hot", body: "{\"n\":\($0)}") })
            for store in [pair.sqlite as any SensorStore, pair.postgres] {
                let (queued, dropped) = try await store.commitRules(commit, maxQueued: 3)
                #expect(queued.count == 4 && dropped == 1)
                #expect(store.queuedDeliveryCount == 3)
                let snapshot = try await store.ruleSnapshot()
                #expect(snapshot.positions == ["hot": t0 + minute, "forward 1m": t0])
                #expect(snapshot.states["hot"]?[series] == firing)
                #expect(try await store.alerts().map(\.cells) == [["hot", "gh-1", "temp", "firing", RFC3339.format(t0), "31.5"]])
                #expect(try await store.deliveryChannels() == ["webhook http://x/hook"])
                let waiting = try await store.queuedDeliveries(channel: "webhook http://x/hook", after: 0, limit: 10)
                #expect(waiting.map(\.body) == ["{\"n\":1}", "{\"n\":2}", "{\"n\":3}"])
                try await store.deleteDeliveries(waiting.prefix(2).compactMap(\.id))
                #expect(store.queuedDeliveryCount == 1)
                try await store.pruneRules(keeping: ["hot"], rules: [], resolvedBefore: 0)
                #expect(try await store.ruleSnapshot().positions == ["hot": t0 + minute])
                #expect(try await store.alerts().isEmpty)
            }
        }
    }

    /// Two daemons flushing deltas of the same series at once: every bucket merged under
    /// the series' row locks, so the sum is exactly what one store holds for all of them.
    @Test func concurrentFlushesOfTwoDaemonsCombineExactly() async throws {
        try await withPair { pair in
            let other = try await secondDaemon(pair)
            let first = flushes(seed: 11), second = flushes(seed: 12)
            for batch in first + second { try await pair.sqlite.write(batch) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { for batch in first { try await pair.postgres.write(batch) } }
                group.addTask { for batch in second { try await other.write(batch) } }
                try await group.waitForAll()
            }
            try await expectSameRows(pair.postgres, pair.sqlite)
            #expect(try await pair.postgres.devices() == pair.sqlite.devices())
            try await other.close()
        }
    }

    /// A flush retried after its commit's answer was lost carries the same id: the store
    /// takes it as written, for this daemon's first flush too, while another daemon's
    /// flush with the same id and this daemon's next one are written.
    @Test func aFlushRetriedWithItsIdIsWrittenOnce() async throws {
        try await withPair { pair in
            let other = try await secondDaemon(pair)
            var batches = flushes(seed: 21)
            for index in batches.indices { batches[index].id = UUID() }
            for batch in batches { try await pair.sqlite.write(batch) }
            try await pair.postgres.write(batches[0])
            try await pair.postgres.write(batches[0])
            for batch in batches.dropFirst() {
                try await pair.postgres.write(batch)
                try await pair.postgres.write(batch)
            }
            try await expectSameRows(pair.postgres, pair.sqlite)
            // Another daemon keeps its own last id: the same batch is new to it.
            try await other.write(batches[0])
            try await pair.sqlite.write(batches[0])
            try await expectSameRows(pair.postgres, pair.sqlite)
            try await other.close()
        }
    }

    /// Readings with a seq judged in the flush transaction against the shared windows:
    /// redeliveries that reached the other daemon are counted once, whichever flushes first.
    @Test func aReadingRedeliveredToAnotherDaemonIsCountedOnce() async throws {
        try await withPair { pair in
            let other = try await secondDaemon(pair)
            #expect(pair.postgres.deduplicatesAtFlush && !pair.sqlite.deduplicatesAtFlush)
            func readings(_ seqs: ClosedRange<UInt64>, device: String) -> [Reading] {
                seqs.map { Reading(device: device, metric: "temp", value: Double($0 % 17), timestamp: t0 + Int64($0) * second, seq: $0) }
            }
            // Each daemon took seq 1…150 of its half of the devices, and 60…100 of the other half again.
            let taken = readings(1...150, device: "a") + readings(60...100, device: "b")
            let retaken = readings(1...150, device: "b") + readings(60...100, device: "a")
            let stores = [pair.postgres, other]
            let duplicates = try await withThrowingTaskGroup(of: Int.self) { group in
                for (store, part) in zip(stores, [taken, retaken]) {
                    group.addTask {
                        var dropped = 0
                        for slice in stride(from: 0, to: part.count, by: 40) {
                            let batch = FlushBatch(groups: [], sequenced: Array(part[slice..<min(slice + 40, part.count)]), resolutions: defaultResolutions)
                            dropped += try await store.write(batch).duplicates
                        }
                        return dropped
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(duplicates == 82)
            try await pair.sqlite.write(makeBatch(readings(1...150, device: "a") + readings(1...150, device: "b")))
            try await expectSameRows(pair.postgres, pair.sqlite)
            #expect(try await pair.postgres.devices().map(\.readings) == [150, 150])
            let windows = try await other.recoveryState().seqWindows
            #expect(windows[SeriesKey(device: "a", metric: "temp")]?.highest == 150)
            await #expect(throws: StoreError.self) {
                try await pair.sqlite.write(FlushBatch(groups: [], sequenced: readings(1...1, device: "c"), resolutions: defaultResolutions))
            }
            try await other.close()
        }
    }

    @Test func openingNamesTheProblemWithoutThePassword() async throws {
        let server = try await onOwnThread { try PostgresServer() }
        defer { server.cleanUp() }
        let url = "postgres://sensorhub:s3cret@127.0.0.1:\(server.port)/postgres?sslmode=disable"
        await #expect {
            _ = try await PostgresStore.open(try PostgresLocation(url: url), instance: "x", mode: .readOnly)
        } throws: { error in
            let text = "\(error)"
            return text.contains("not a SensorHub database") && !text.contains("s3cret")
        }
        let closedPort = try FreePort.pick()
        await #expect {
            _ = try await PostgresStore.open(try PostgresLocation(url: "postgres://sensorhub:s3cret@127.0.0.1:\(closedPort)/postgres?sslmode=disable"), instance: "x", mode: .readWrite)
        } throws: { error in
            "\(error)".contains("cannot open database postgres://sensorhub@127.0.0.1:\(closedPort)") && !"\(error)".contains("s3cret")
        }
        #expect(throws: PostgresLocation.Invalid.self) { try PostgresLocation(url: "postgres://host-only/db") }
    }

    @Test func globsSelectWhatGlobSelects() {
        #expect(GlobPattern.regex("dev-*") == "^dev-.*$")
        #expect(GlobPattern.regex("d?v.[12]") == "^d.v\\.[12]$")
        // A class never closed matches nothing, as in SQLite (it made invalid expressions).
        #expect(GlobPattern.regex("a[b") == GlobPattern.matchesNothing)
        #expect(GlobPattern.regex("dev[[") == GlobPattern.matchesNothing)
        // A `]` first in a class is a member; the class goes on to the next `]`.
        #expect(GlobPattern.regex("[]d]ev-*") == "^[]d]ev-.*$")
        #expect(GlobPattern.regex("[^]x]?") == "^[^]x].$")
    }
}
