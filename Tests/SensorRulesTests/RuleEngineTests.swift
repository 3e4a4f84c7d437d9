import Foundation
import Logging
import Testing
import SensorCore
import SensorStore
@testable import SensorRules

/// The rule engine on a real store: windows judged once when closed, transitions and
/// forwarded rows queued once, and a restart (a new engine on the same file) neither
/// repeating nor losing anything.
@Suite struct RuleEngineTests {
    static let second: Int64 = 1_000_000
    static let minute = Resolution(seconds: 60)!
    static let base: Int64 = 1_764_165_600 * 1_000_000  // a minute boundary
    static let series = SeriesKey(device: "gh-1", metric: "temp")

    final class Fixture {
        let directory: URL
        let store: SQLiteStore

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            store = try SQLiteStore(path: directory.appendingPathComponent("test.db").path, mode: .readWrite)
        }

        deinit { try? FileManager.default.removeItem(at: directory) }

        func engine(_ rules: [AlertRule], forward: ForwardRule? = nil) async throws -> RuleEngine {
            try await store.registerResolutions([RuleEngineTests.minute])
            let engine = RuleEngine(
                rules: rules, forward: forward, store: store, live: nil, lateness: .seconds(5), maxQueued: 1_000,
                keepResolved: .seconds(86_400), logger: Logger(label: "test"))
            try await engine.start(at: RuleEngineTests.base)
            return engine
        }

        /// One reading per minute window `minute` (from `base`) with `value`, of `series`.
        func store(_ values: [(minute: Int64, value: Double)], series: SeriesKey = RuleEngineTests.series) async throws {
            var buckets: [Bucket] = []
            for (minute, value) in values {
                var stats = BucketStats()
                stats.add(value, at: RuleEngineTests.base + minute * 60 * RuleEngineTests.second)
                buckets.append(Bucket(series: series, resolution: RuleEngineTests.minute, windowStart: RuleEngineTests.base + minute * 60 * RuleEngineTests.second, stats: stats))
            }
            let last = values.map(\.minute).max() ?? 0
            try await store.write(FlushBatch(buckets: buckets, series: [SeriesDelta(series: series, readings: Int64(values.count), lastSeen: RuleEngineTests.base + last * 60 * RuleEngineTests.second)]))
        }

        func queued() async throws -> [Delivery] {
            var all: [Delivery] = []
            for channel in try await store.deliveryChannels().sorted() {
                all += try await store.queuedDeliveries(channel: channel, after: 0, limit: 10_000)
            }
            return all
        }
    }

    /// The wall clock at which minute window `index` (from `base`) is closed: its end plus the 5 s lateness.
    static func closing(_ index: Int64) -> Int64 { base + (index + 1) * 60 * second + 5 * second }

    static let hot = AlertRule(
        name: "hot", device: NameGlob("gh-*"), metric: NameGlob("temp"),
        condition: .threshold(.init(resolution: minute, statistic: .mean, comparison: .greater, value: 30, windows: 2)),
        actions: [.webhook("http://127.0.0.1:9/hook"), .mqtt(try! TopicTemplate("alerts/{rule}/{device}/{metric}"))])

    @Test func aRuleFiresAndResolvesOnceEachAcrossARestart() async throws {
        let fixture = try Fixture()
        var engine = try await fixture.engine([Self.hot])
        // The first evaluation places the rule's position: windows closing later are judged.
        await engine.flushCommitted(completeBefore: Self.closing(-1))
        try await fixture.store([(0, 31), (1, 32), (2, 33), (3, 20), (4, 35)])
        // Not closed yet: 4 s of lateness left for window 0.
        await engine.flushCommitted(completeBefore: Self.closing(0) - Self.second)
        #expect(try await fixture.store.alerts().isEmpty)
        await engine.flushCommitted(completeBefore: Self.closing(1))
        let fired = try await fixture.store.alerts()
        #expect(fired == [AlertRecord(rule: "hot", series: Self.series, state: AlertState(phase: .firing, since: Self.base, value: 32))])

        // A new engine on the same file continues from the committed state and position.
        engine = try await fixture.engine([Self.hot])
        await engine.flushCommitted(completeBefore: Self.closing(1))
        await engine.flushCommitted(completeBefore: Self.closing(3))
        let resolved = try await fixture.store.alerts()
        #expect(resolved == [AlertRecord(rule: "hot", series: Self.series, state: AlertState(phase: .resolved, since: Self.base + 3 * 60 * Self.second, value: 20))])
        // Window 4 alone does not fire again (for: 2).
        await engine.flushCommitted(completeBefore: Self.closing(4))
        #expect(try await fixture.store.alerts().map(\.state) == ["resolved"])

        // Each transition queued once per action, in order: fired, then resolved.
        let deliveries = try await fixture.queued()
        #expect(deliveries.count == 4)
        #expect(deliveries.filter { $0.channel == "mqtt" }.map(\.topic) == ["alerts/hot/gh-1/temp", "alerts/hot/gh-1/temp"])
        let bodies = deliveries.filter { $0.channel == "webhook http://127.0.0.1:9/hook" }.map(\.body)
        #expect(bodies == [
            #"{"rule":"hot","device":"gh-1","metric":"temp","state":"firing","since":"2025-11-26T14:00:00Z","value":32.0}"#,
            #"{"rule":"hot","device":"gh-1","metric":"temp","state":"resolved","since":"2025-11-26T14:03:00Z","value":20.0}"#,
        ])
    }

    /// A late reading merges into its stored bucket but does not re-judge a closed window.
    @Test func aLateReadingDoesNotReopenAJudgedWindow() async throws {
        let fixture = try Fixture()
        let engine = try await fixture.engine([Self.hot])
        await engine.flushCommitted(completeBefore: Self.closing(-1))
        try await fixture.store([(0, 31), (1, 20)])
        await engine.flushCommitted(completeBefore: Self.closing(1))
        #expect(try await fixture.store.alerts().isEmpty)
        // Window 1 becomes hot (mean 50) after it was judged: nothing fires.
        try await fixture.store([(1, 80)])
        await engine.flushCommitted(completeBefore: Self.closing(2))
        #expect(try await fixture.store.alerts().isEmpty)
        #expect(try await fixture.queued().isEmpty)
    }

    @Test func forwardingQueuesEveryClosedBucketOnceInOrder() async throws {
        let fixture = try Fixture()
        let forward = ForwardRule(topic: try TopicTemplate("agg/{device}/{metric}/{resolution}"), resolutions: [Self.minute])
        var engine = try await fixture.engine([], forward: forward)
        await engine.flushCommitted(completeBefore: Self.closing(-1))
        try await fixture.store([(0, 1), (1, 2), (2, 3)])
        try await fixture.store([(1, 5)], series: SeriesKey(device: "other", metric: "rh"))
        await engine.flushCommitted(completeBefore: Self.closing(0))
        await engine.flushCommitted(completeBefore: Self.closing(0) + Self.second)
        engine = try await fixture.engine([], forward: forward)
        await engine.flushCommitted(completeBefore: Self.closing(2))
        await engine.flushCommitted(completeBefore: Self.closing(2))
        let rows = try await fixture.queued()
        // Window 0 at the first evaluation; windows 1 and 2 in one read after the restart,
        // ordered by series, then window (each series in window order).
        #expect(rows.map(\.topic) == ["agg/gh-1/temp/1m", "agg/gh-1/temp/1m", "agg/gh-1/temp/1m", "agg/other/rh/1m"])
        #expect(rows.map { try! JSONSerialization.jsonObject(with: Data($0.body.utf8)) as! [String: Any] }.map { $0["mean"] as! Double } == [1, 2, 3, 5])
        #expect(rows[0].body == #"{"device":"gh-1","metric":"temp","window_start":"2025-11-26T14:00:00Z","window_end":"2025-11-26T14:01:00Z","count":1,"sum":1.0,"min":1.0,"max":1.0,"mean":1.0,"stddev":0.0,"first":1.0,"last":1.0,"p50":1.0,"p90":1.0,"p95":1.0,"p99":1.0}"#)
    }

    @Test func anAbsentRuleFiresOnceAndResolvesWhenTheSeriesIsHeardFrom() async throws {
        let fixture = try Fixture()
        let silent = AlertRule(name: "silent", metric: NameGlob("temp"), condition: .absent(.seconds(120)))
        let engine = try await fixture.engine([silent])
        try await fixture.store([(0, 1)])
        await engine.flushCommitted(completeBefore: Self.base + 119 * Self.second)
        #expect(try await fixture.store.alerts().isEmpty)
        // Silences are read at most every tenth of the duration (12 s): not at 120 s, at 131 s.
        await engine.flushCommitted(completeBefore: Self.base + 120 * Self.second)
        #expect(try await fixture.store.alerts().isEmpty)
        await engine.flushCommitted(completeBefore: Self.base + 131 * Self.second)
        await engine.flushCommitted(completeBefore: Self.base + 300 * Self.second)
        let firing = AlertState(phase: .firing, since: Self.base + 120 * Self.second, value: Double(Self.base / Self.second))
        #expect(try await fixture.store.alerts() == [AlertRecord(rule: "silent", series: Self.series, state: firing)], "since is exact, however late it was seen")
        try await fixture.store([(5, 1)])
        await engine.flushCommitted(completeBefore: Self.base + 312 * Self.second)
        #expect(try await fixture.store.alerts().map(\.state) == ["resolved"])
        #expect(try await fixture.queued().isEmpty, "a rule without actions queues nothing")
    }

    @Test func theQueueKeepsAtMostItsBoundDroppingTheOldest() async throws {
        let fixture = try Fixture()
        let deliveries = (0..<1_005).map { Delivery(channel: "mqtt", rule: "r", topic: "t", body: "\($0)") }
        let (queued, dropped) = try await fixture.store.commitRules(RuleCommit(deliveries: deliveries), maxQueued: 1_000)
        #expect(queued.count == 1_005 && dropped == 5)
        let kept = try await fixture.queued()
        #expect(kept.map(\.body) == (5..<1_005).map { "\($0)" })
        #expect(fixture.store.queuedDeliveryCount == 1_000)
        try await fixture.store.deleteDeliveries(kept.prefix(10).compactMap(\.id))
        #expect(fixture.store.queuedDeliveryCount == 990)
        #expect(try await fixture.queued().first?.body == "15")
    }
}
