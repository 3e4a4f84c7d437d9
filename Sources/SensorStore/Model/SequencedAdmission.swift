package import SensorCore

/// What a store that de-duplicates at flush (``FlushStore/deduplicatesAtFlush``) does with
/// a batch's ``FlushBatch/sequenced`` readings, given the stored seq windows of their
/// series (read under those series' locks): admits each, in order, through its series'
/// window, and turns the admitted ones into bucket deltas and series deltas, as the
/// aggregation workers would have. Pure: the store reads and writes the windows.
package struct SequencedAdmission {
    /// The windows after the admission, of every series that had a sequenced reading.
    package private(set) var windows: [SeriesKey: SeqWindow] = [:]
    package private(set) var groups: [BucketGroup] = []
    package private(set) var series: [SeriesDelta] = []
    package private(set) var duplicates = 0

    package init(_ readings: [Reading], resolutions: [Resolution], stored: [SeriesKey: SeqWindow]) {
        struct Key: Hashable {
            var series: SeriesKey
            var resolution: Resolution
        }
        var buckets: [Key: [Int64: BucketStats]] = [:]
        var totals: [SeriesKey: (readings: Int64, lastSeen: Int64)] = [:]
        for reading in readings {
            guard let seq = reading.seq else { continue }
            let key = reading.series
            if var window = windows[key] ?? stored[key] {
                guard window.admit(seq, at: reading.timestamp) else {
                    duplicates += 1
                    continue
                }
                windows[key] = window
            } else {
                windows[key] = SeqWindow(first: seq, at: reading.timestamp)
            }
            for resolution in resolutions {
                buckets[Key(series: key, resolution: resolution), default: [:]][resolution.windowStart(containing: reading.timestamp), default: BucketStats()]
                    .add(reading.value, at: reading.timestamp)
            }
            let total = totals[key] ?? (0, .min)
            totals[key] = (total.readings + 1, max(total.lastSeen, reading.timestamp))
        }
        for (key, windows) in buckets {
            let sorted = windows.sorted { $0.key < $1.key }
            groups.append(BucketGroup(series: key.series, resolution: key.resolution, windowStarts: sorted.map(\.key), stats: sorted.map(\.value)))
        }
        series = totals.map { SeriesDelta(series: $0.key, readings: $0.value.readings, lastSeen: $0.value.lastSeen) }
    }
}
