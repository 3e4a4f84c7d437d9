import Testing
import SensorCore

/// The alert state machine against an independent statement of its rules: a rule fires
/// at the window that completes `required` consecutive (adjacent, each meeting the
/// condition) closed windows while not firing, and resolves at the first window that does
/// not meet it while firing.
@Suite struct AlertStateTests {
    /// Expected transitions computed from the whole history at once, window by window.
    private static func expected(_ windows: [(start: Int64, met: Bool)], width: Int64, required: Int) -> [(Int, AlertState.Transition)] {
        var result: [(Int, AlertState.Transition)] = []
        var firing = false
        for index in windows.indices {
            if windows[index].met {
                // The run of adjacent met windows ending here.
                var run = 0
                var cursor = index
                while cursor >= 0, windows[cursor].met, cursor == index || windows[cursor].start + width == windows[cursor + 1].start {
                    run += 1
                    cursor -= 1
                }
                if !firing, run >= required {
                    firing = true
                    result.append((index, .fired))
                }
            } else if firing {
                firing = false
                result.append((index, .resolved))
            }
        }
        return result
    }

    @Test func transitionsMatchTheDefinitionOnRandomHistories() {
        var generator = SeededGenerator(seed: 42)
        let width: Int64 = 10_000_000
        for trial in 0..<500 {
            let required = Int.random(in: 1...4, using: &generator)
            var windows: [(start: Int64, met: Bool)] = []
            var start: Int64 = 1_764_165_600_000_000
            for _ in 0..<Int.random(in: 1...40, using: &generator) {
                // Sometimes a gap: windows without readings are not judged.
                start += width * (Bool.random(using: &generator) && Int.random(in: 0..<4, using: &generator) == 0 ? 2 : 1)
                windows.append((start, Int.random(in: 0..<3, using: &generator) > 0))
            }
            var state = AlertState()
            var actual: [(Int, AlertState.Transition)] = []
            for (index, window) in windows.enumerated() {
                if let transition = state.judge(windowStart: window.start, windowEnd: window.start + width, value: 1, met: window.met, required: required) {
                    actual.append((index, transition))
                }
            }
            let wanted = Self.expected(windows, width: width, required: required)
            #expect(actual.map(\.0) == wanted.map(\.0) && actual.map(\.1) == wanted.map(\.1), "trial \(trial): \(windows) for \(required)")
        }
    }

    @Test func firingSinceIsTheStreaksFirstWindowAndResolvedSinceTheWindowThatEndedIt() {
        var state = AlertState()
        let width: Int64 = 60_000_000
        #expect(state.judge(windowStart: 0, windowEnd: width, value: 31, met: true, required: 3) == nil)
        #expect(state.judge(windowStart: width, windowEnd: 2 * width, value: 32, met: true, required: 3) == nil)
        #expect(state.judge(windowStart: 2 * width, windowEnd: 3 * width, value: 33, met: true, required: 3) == .fired)
        #expect(state.phase == .firing && state.since == 0 && state.value == 33)
        #expect(state.judge(windowStart: 3 * width, windowEnd: 4 * width, value: 34, met: true, required: 3) == nil)
        #expect(state.judge(windowStart: 4 * width, windowEnd: 5 * width, value: 29, met: false, required: 3) == .resolved)
        #expect(state.phase == .resolved && state.since == 4 * width && state.value == 29)
        #expect(state.isWorthKeeping)
    }

    @Test func silenceFiresOnceAtItsDurationAndResolvesWithTheNextReading() {
        var state = AlertState()
        let second: Int64 = 1_000_000
        #expect(state.judgeSilence(lastSeen: 100 * second, now: 104 * second, absent: 5 * second) == nil)
        #expect(state.judgeSilence(lastSeen: 100 * second, now: 105 * second, absent: 5 * second) == .fired)
        #expect(state.since == 105 * second && state.value == 100)
        #expect(state.judgeSilence(lastSeen: 100 * second, now: 200 * second, absent: 5 * second) == nil)
        #expect(state.judgeSilence(lastSeen: 201 * second, now: 202 * second, absent: 5 * second) == .resolved)
        #expect(state.since == 201 * second && state.phase == .resolved)
        #expect(!AlertState().isWorthKeeping)
    }

    /// After a restart the silence counts from the restart at the earliest, and a firing
    /// alert stays firing until the series is really heard from.
    @Test func aRestartNeitherFiresEarlyNorResolvesASilence() {
        let second: Int64 = 1_000_000
        var quiet = AlertState()
        #expect(quiet.judgeSilence(lastSeen: 0, watchedSince: 1_000 * second, now: 1_004 * second, absent: 5 * second) == nil)
        #expect(quiet.judgeSilence(lastSeen: 0, watchedSince: 1_000 * second, now: 1_005 * second, absent: 5 * second) == .fired)
        #expect(quiet.since == 1_005 * second && quiet.value == 0)
        var firing = AlertState(phase: .firing, since: 5 * second, value: 0)
        #expect(firing.judgeSilence(lastSeen: 0, watchedSince: 1_000 * second, now: 1_001 * second, absent: 5 * second) == nil)
        #expect(firing.phase == .firing)
        #expect(firing.judgeSilence(lastSeen: 1_001 * second, watchedSince: 1_000 * second, now: 1_002 * second, absent: 5 * second) == .resolved)
    }

    @Test func topicTemplatesExpandTheirPlaceholdersAndRefuseWildcards() throws {
        let template = try TopicTemplate("alerts/{rule}/{device}/{metric}")
        #expect(template.expand(["rule": "hot", "device": "gh-1", "metric": "temp"]) == "alerts/hot/gh-1/temp")
        #expect(throws: TopicTemplateError.self) { try TopicTemplate("alerts/#") }
        #expect(throws: TopicTemplateError.self) { try TopicTemplate("alerts/{sensor}") }
        #expect(throws: TopicTemplateError.self) { try TopicTemplate("alerts/{rule") }
        #expect(throws: TopicTemplateError.self) { try TopicTemplate("a/{resolution}", allowed: ["rule", "device", "metric"]) }
    }

    @Test func statisticsAndComparisonsReadTheRow() {
        var stats = BucketStats()
        for (index, value) in [10.0, 20, 30].enumerated() { stats.add(value, at: Int64(index)) }
        let record = AggregateRecord(series: SeriesKey(device: "d", metric: "m"), windowStart: 0, windowEnd: 10_000_000, stats: stats)
        #expect(AlertStatistic.mean.value(in: record) == 20)
        #expect(AlertStatistic.count.value(in: record) == 3)
        #expect(AlertStatistic.max.value(in: record) == 30)
        let rule = AlertRule.Threshold(resolution: Resolution(seconds: 10)!, statistic: .mean, comparison: .greaterOrEqual, value: 20)
        #expect(rule.isMet(by: record))
        #expect(!AlertRule.Threshold(resolution: Resolution(seconds: 10)!, statistic: .mean, comparison: .greater, value: 20).isMet(by: record))
    }
}
