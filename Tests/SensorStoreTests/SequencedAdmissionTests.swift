import Testing
import SensorCore
import SensorStore

@Suite struct SequencedAdmissionTests {
    /// A backlog: one series' seqs in order, their readings stamped over 20,000 windows in
    /// shuffled order, then every reading of two series redelivered, and some seqs already
    /// in a stored window. Each reading is admitted once and bucketed at every resolution,
    /// as an independent count says.
    @Test func aBacklogOverManyWindowsIsAdmittedOnceAndBucketedExactly() throws {
        let resolutions = [try Resolution(parsing: "10s"), try Resolution(parsing: "1m")]
        var generator = SeededGenerator(seed: 3)
        let stamps = Array(0..<20_000).shuffled(using: &generator).map { Int64($0) * 10_000_000 }
        var readings: [Reading] = []
        for seq in 0..<20_000 {
            readings.append(Reading(device: "a", metric: "m", value: Double(seq % 97), timestamp: stamps[seq], seq: UInt64(seq)))
        }
        for seq in UInt64(0)..<50 {
            readings.append(Reading(device: "b", metric: "m", value: 1, timestamp: Int64(seq) * 1_000_000, seq: seq))
        }
        readings += readings // every reading redelivered
        let stored = [SeriesKey(device: "b", metric: "m"): SeqWindow(first: 9, at: 9_000_000)]
        // b's seq 9 was counted before: it and its redelivery are duplicates.
        let admission = SequencedAdmission(readings, resolutions: resolutions, stored: stored)

        #expect(admission.duplicates == 20_050 + 1)
        let counted = Dictionary(uniqueKeysWithValues: admission.series.map { ($0.series.device, $0.readings) })
        #expect(counted == ["a": 20_000, "b": 49])
        for group in admission.groups where group.series.device == "a" {
            #expect(group.windowStarts == group.windowStarts.sorted())
            var expected: [Int64: (count: Int64, sum: Double)] = [:]
            for seq in 0..<20_000 {
                let start = group.resolution.windowStart(containing: stamps[seq])
                expected[start, default: (0, 0)].count += 1
                expected[start, default: (0, 0)].sum += Double(seq % 97)
            }
            #expect(group.windowStarts.count == expected.count)
            for (start, stats) in zip(group.windowStarts, group.stats) {
                #expect(stats.count == expected[start]?.count && stats.sum == expected[start]?.sum)
            }
        }
        #expect(admission.windows[SeriesKey(device: "a", metric: "m")]?.highest == 19_999)
    }
}
