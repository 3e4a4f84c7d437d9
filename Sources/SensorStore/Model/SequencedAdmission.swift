package import SensorCore

/// What a store that de-duplicates at flush (``FlushStore/deduplicatesAtFlush``) does with
/// a batch's ``FlushBatch/sequenced`` readings, given the stored seq windows of their
/// series (read under those series' locks): admits each, in order, through its series'
/// window, and turns the admitted ones into bucket deltas and series deltas, as the
/// aggregation workers would have. Pure: the store reads and writes the windows.
///
/// Readings are grouped by series first (one hash of the series per reading); each
/// series' window is then changed in place, and a reading's bucket is the newest one
/// (readings of a series mostly come in time order) or found through an index.
package struct SequencedAdmission {
    /// The windows after the admission, of every series that had a reading admitted.
    package private(set) var windows: [SeriesKey: SeqWindow] = [:]
    package private(set) var groups: [BucketGroup] = []
    package private(set) var series: [SeriesDelta] = []
    package private(set) var duplicates = 0

    package init(_ readings: [Reading], resolutions: [Resolution], stored: [SeriesKey: SeqWindow]) {
        var bySeries: [SeriesKey: [Reading]] = [:]
        for reading in readings where reading.seq != nil {
            bySeries[reading.series, default: []].append(reading)
        }
        for (key, list) in bySeries {
            admit(list, of: key, window: stored[key], resolutions: resolutions)
        }
    }

    private mutating func admit(_ readings: [Reading], of key: SeriesKey, window stored: SeqWindow?, resolutions: [Resolution]) {
        var window = stored
        var buckets: [[(start: Int64, stats: BucketStats)]] = Array(repeating: [], count: resolutions.count)
        // Window start → position, per resolution: a series' backlog over many windows
        // must not cost a scan of all of them per reading.
        var positions: [[Int64: Int]] = Array(repeating: [:], count: resolutions.count)
        var admitted: Int64 = 0
        var lastSeen = Int64.min
        for reading in readings {
            guard let seq = reading.seq else { continue }
            if window == nil {
                window = SeqWindow(first: seq, at: reading.timestamp)
            } else if !window!.admit(seq, at: reading.timestamp) {
                duplicates += 1
                continue
            }
            admitted += 1
            lastSeen = max(lastSeen, reading.timestamp)
            let bin = QuantileSketch.Bin(reading.value)
            for index in resolutions.indices {
                let start = resolutions[index].windowStart(containing: reading.timestamp)
                let newest = buckets[index].count - 1
                if let position = newest >= 0 && buckets[index][newest].start == start ? newest : positions[index][start] {
                    _ = buckets[index][position].stats.add(reading.value, at: reading.timestamp, bin: bin)
                } else {
                    var stats = BucketStats()
                    _ = stats.add(reading.value, at: reading.timestamp, bin: bin)
                    positions[index][start] = buckets[index].count
                    buckets[index].append((start, stats))
                }
            }
        }
        guard admitted > 0, let window else { return }
        windows[key] = window
        series.append(SeriesDelta(series: key, readings: admitted, lastSeen: lastSeen))
        for (index, resolution) in resolutions.enumerated() {
            let sorted = buckets[index].sorted { $0.start < $1.start }
            groups.append(BucketGroup(series: key, resolution: resolution, windowStarts: sorted.map(\.start), stats: sorted.map(\.stats)))
        }
    }
}
