import Testing
import SensorCore
import SensorStore
@testable import SensorPipeline

private let tenSeconds = try! Resolution(parsing: "10s")
private let oneMinute = try! Resolution(parsing: "1m")

private func bucket(_ device: String, _ metric: String = "t", start: Int64, resolution: Resolution = tenSeconds) -> Bucket {
    var stats = BucketStats()
    stats.add(Double(start), at: start)
    return Bucket(series: SeriesKey(device: device, metric: metric), resolution: resolution, windowStart: start, stats: stats)
}

/// The starts of the bucket events, and the lagged counts, in the order received.
private func drain(_ subscription: LiveSubscription, events: Int) async -> [String] {
    var received: [String] = []
    var iterator = subscription.makeAsyncIterator()
    for _ in 0..<events {
        switch await iterator.next() {
        case .bucket(let bucket): received.append("\(bucket.series.device)@\(bucket.windowStart)")
        case .lagged(let dropped): received.append("lagged \(dropped)")
        case .alert(let alert): received.append("alert \(alert.rule) \(alert.device) \(alert.state)")
        case .heartbeat: received.append("heartbeat")
        case nil: received.append("end")
        }
    }
    return received
}

@Suite struct LiveFeedTests {
    @Test func subscribersGetWhatTheirFilterMatchesInOrder() async {
        let feed = LiveFeed(capacity: 100)
        let kilns = try! #require(feed.subscribe(LiveFilter(deviceGlob: "kiln-*", metricGlob: "t", resolutions: [tenSeconds])))
        let all = try! #require(feed.subscribe(LiveFilter()))
        feed.publish([
            bucket("kiln-1", start: 0), bucket("oven-1", start: 0), bucket("kiln-2", "rpm", start: 0),
            bucket("kiln-2", start: 10, resolution: oneMinute), bucket("kiln-3", start: 20),
        ])
        kilns.close()
        all.close()
        #expect(await drain(kilns, events: 3) == ["kiln-1@0", "kiln-3@20", "end"])
        #expect(await drain(all, events: 6) == ["kiln-1@0", "oven-1@0", "kiln-2@0", "kiln-2@10", "kiln-3@20", "end"])
    }

    /// Alerts go to subscribers whose device and metric globs match, whatever resolutions
    /// they follow, in order with the bucket updates.
    @Test func alertsReachSubscribersWhoseGlobsMatch() async {
        let feed = LiveFeed(capacity: 100)
        let kilns = try! #require(feed.subscribe(LiveFilter(deviceGlob: "kiln-*", metricGlob: "t", resolutions: [oneMinute])))
        let ovens = try! #require(feed.subscribe(LiveFilter(deviceGlob: "oven-*")))
        feed.publish([bucket("kiln-1", start: 0, resolution: oneMinute)])
        let firing = AlertState(phase: .firing, since: 0, value: 31)
        feed.publish(alerts: [
            AlertRecord(rule: "hot", series: SeriesKey(device: "kiln-1", metric: "t"), state: firing),
            AlertRecord(rule: "hot", series: SeriesKey(device: "oven-1", metric: "t"), state: firing),
            AlertRecord(rule: "hot", series: SeriesKey(device: "kiln-2", metric: "rpm"), state: firing),
        ])
        kilns.close()
        ovens.close()
        #expect(await drain(kilns, events: 3) == ["kiln-1@0", "alert hot kiln-1 firing", "end"])
        #expect(await drain(ovens, events: 2) == ["alert hot oven-1 firing", "end"])
    }

    @Test func theStoreIsAskedOnlyForBucketsSomeSubscriberWants() {
        let feed = LiveFeed()
        #expect(feed.bucketFilter() == nil, "nobody subscribed: nothing collected")
        let kilns = try! #require(feed.subscribe(LiveFilter(deviceGlob: "kiln-*", resolutions: [tenSeconds])))
        let rpm = try! #require(feed.subscribe(LiveFilter(metricGlob: "rpm")))
        let wanted = try! #require(feed.bucketFilter())
        #expect(wanted(SeriesKey(device: "kiln-1", metric: "t"), tenSeconds))
        #expect(!wanted(SeriesKey(device: "kiln-1", metric: "t"), oneMinute))
        #expect(wanted(SeriesKey(device: "oven-1", metric: "rpm"), oneMinute))
        #expect(!wanted(SeriesKey(device: "oven-1", metric: "t"), tenSeconds))
        kilns.close()
        rpm.close()
        #expect(feed.bucketFilter() == nil)
    }

    @Test func aFullBufferDropsTheOldestAndTheConsumerHearsHowManyFirst() async {
        let feed = LiveFeed(capacity: 3)
        let slow = try! #require(feed.subscribe(LiveFilter()))
        feed.publish((0..<5).map { bucket("d", start: Int64($0)) })
        feed.publish([bucket("d", start: 5), bucket("d", start: 6)])
        // 7 updates, room for 3: the 4 oldest are gone.
        #expect(await drain(slow, events: 4) == ["lagged 4", "d@4", "d@5", "d@6"])
        feed.publish([bucket("d", start: 7)])
        #expect(await drain(slow, events: 1) == ["d@7"], "no second lagged notice without new drops")
        slow.close()
    }

    @Test func heartbeatsOnlyWhenIdleAndNeverInsteadOfAnUpdate() async {
        let feed = LiveFeed(capacity: 2)
        let subscription = try! #require(feed.subscribe(LiveFilter()))
        feed.publish([bucket("d", start: 1), bucket("d", start: 2)])
        subscription.heartbeat()  // updates are waiting: no heartbeat
        #expect(await drain(subscription, events: 2) == ["d@1", "d@2"])
        subscription.heartbeat()
        subscription.heartbeat()  // one is enough
        feed.publish([bucket("d", start: 3)])
        subscription.close()
        #expect(await drain(subscription, events: 3) == ["heartbeat", "d@3", "end"])
    }

    @Test func closingUnsubscribesAndTheLimitCounts() async {
        let feed = LiveFeed(capacity: 10, maxSubscribers: 2)
        let first = try! #require(feed.subscribe(LiveFilter()))
        let second = try! #require(feed.subscribe(LiveFilter()))
        #expect(feed.subscribe(LiveFilter()) == nil)
        #expect(feed.hasSubscribers)
        first.close()
        first.close()  // idempotent
        let third = feed.subscribe(LiveFilter())
        #expect(third != nil)
        second.close()
        third?.close()
        #expect(!feed.hasSubscribers)
        feed.publish([bucket("d", start: 1)])
        #expect(await drain(second, events: 1) == ["end"], "closed before the update: nothing more")
    }

    @Test func cancellingTheConsumerEndsItsWait() async {
        let feed = LiveFeed()
        let subscription = try! #require(feed.subscribe(LiveFilter()))
        let waiting = Task { await drain(subscription, events: 1) }
        try? await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        #expect(await waiting.value == ["end"])
        subscription.close()
        #expect(!feed.hasSubscribers)
    }
}
