package import SensorCore

/// The unflushed buckets a query merges into its stored answer: those of the parts the
/// store does not have yet (``UnflushedPart``), series by series in the store's order
/// (``precedes(_:_:)``). A series' buckets are built when asked for (``group(_:)``), its
/// parts' buckets of one window merged in the order the parts came (older first). The
/// answer merges that into the stored bucket, where the flushes will merge each part into
/// it in turn: counts, extremes, first and last and the sketch come out the same, sum,
/// mean and m2 may differ in their last bits.
package struct UnflushedGroups: Sendable {
    private let parts: [any UnflushedPart]
    /// Where each part holds each series, in the store's order of series and, for one
    /// series, in the order of the parts; `firstPlaces[n]` is where the n-th series'
    /// places start. Flat: a query over 100,000 pending series held 30 MB in a table of
    /// per-series lists. A place asks its part for its key (8 bytes a place: 40 with a
    /// list of each part's keys, 48 with a copy of the key in the place), and the list is
    /// made once at its size (it grew part by part, the old buffer held beside the new one).
    private let places: [Place]
    private let firstPlaces: [Int]
    private let resolution: Resolution
    private let starts: Range<Int64>

    private struct Place {
        var part: Int32
        var index: Int32
    }

    /// The parts not stored yet by `checkpoints` (shard → stored position), at `plan`'s
    /// resolution and in its bucket range.
    package init(parts: [any UnflushedPart], checkpoints: [Int: Int64], plan: WindowPlan) {
        let parts = parts.filter { !$0.isStored(by: checkpoints) }
        var places: [Place] = []
        places.reserveCapacity(parts.reduce(0) { $0 + $1.seriesCount })
        for (part, unflushed) in parts.enumerated() {
            for index in 0..<unflushed.seriesCount { places.append(Place(part: Int32(part), index: Int32(index))) }
        }
        func key(_ place: Place) -> SeriesKey { parts[Int(place.part)].series(at: Int(place.index)) }
        // Stable: a series' places keep the order of the parts.
        places.sort { Self.precedes(key($0), key($1)) }
        firstPlaces = places.indices.filter { $0 == 0 || !Self.same(key(places[$0 - 1]), key(places[$0])) } + [places.count]
        self.parts = parts
        self.places = places
        resolution = plan.resolution
        starts = plan.bucketLow..<plan.bucketHigh
    }

    /// Series with unflushed buckets (some may have none in the range).
    package var count: Int { firstPlaces.count - 1 }

    package func key(_ position: Int) -> SeriesKey {
        let place = places[firstPlaces[position]]
        return parts[Int(place.part)].series(at: Int(place.index))
    }

    /// Where the parts hold the series at `position`.
    private func places(ofSeriesAt position: Int) -> ArraySlice<Place> {
        places[firstPlaces[position]..<firstPlaces[position + 1]]
    }

    /// The unflushed buckets of the series at `position`, built now; nil when none lie in
    /// the range.
    package func group(_ position: Int) -> BucketGroup? {
        var merged: BucketGroup?
        for place in places(ofSeriesAt: position) {
            guard let group = parts[Int(place.part)].group(ofSeriesAt: Int(place.index), resolution: resolution, startingIn: starts) else { continue }
            merged = merged.map { Self.merging($0, group) } ?? group
        }
        return merged
    }

    /// At most how many rows the unflushed buckets add to an answer: each bucket in the
    /// range lies in at most ⌈window / step⌉ windows. A bound, not a count.
    package func possibleRows(_ plan: WindowPlan) -> Int64 {
        (0..<count).reduce(0) { $0 + possibleRows(ofSeriesAt: $1, plan) }
    }

    /// At most how many rows the unflushed buckets of the series at `position` add to an
    /// answer; with `covered`, only those of its buckets starting outside it (the windows of
    /// those inside are counted already: the span of its stored buckets). Two parts (the
    /// batch being written, the shard adding to it) may hold the same window: `exactly`
    /// counts it once, from the series' buckets built, where the parts' counts add it twice.
    package func possibleRows(
        ofSeriesAt position: Int, _ plan: WindowPlan, outside covered: Range<Int64>? = nil, exactly: Bool = false
    ) -> Int64 {
        let places = places(ofSeriesAt: position)
        var buckets = 0
        if exactly && places.count > 1 {
            buckets = group(position)?.windowStarts.count { covered?.contains($0) != true } ?? 0
        } else {
            let ranges = covered.map {
                [starts.lowerBound..<max(starts.lowerBound, min($0.lowerBound, starts.upperBound)),
                 min(starts.upperBound, max($0.upperBound, starts.lowerBound))..<starts.upperBound]
            } ?? [starts]
            for place in places {
                for range in ranges where !range.isEmpty {
                    buckets += parts[Int(place.part)].bucketCount(ofSeriesAt: Int(place.index), resolution: resolution, startingIn: range)
                }
            }
        }
        let perBucket = (plan.window + plan.step - 1) / plan.step
        return min(Int64(buckets) * perBucket, plan.returnableWindows)
    }

    /// The store's order of series: device, then metric, byte by byte (SQLite's `BINARY`
    /// collation of `ORDER BY device, metric`).
    package static func precedes(_ a: SeriesKey, _ b: SeriesKey) -> Bool {
        if !a.device.utf8.elementsEqual(b.device.utf8) { return a.device.utf8.lexicographicallyPrecedes(b.device.utf8) }
        return a.metric.utf8.lexicographicallyPrecedes(b.metric.utf8)
    }

    /// Whether `a` and `b` are the same series in the store's terms (byte for byte).
    package static func same(_ a: SeriesKey, _ b: SeriesKey) -> Bool {
        a.device.utf8.elementsEqual(b.device.utf8) && a.metric.utf8.elementsEqual(b.metric.utf8)
    }

    /// `earlier` with `later`'s buckets merged in, windows kept ascending.
    private static func merging(_ earlier: BucketGroup, _ later: BucketGroup) -> BucketGroup {
        var starts: [Int64] = [], stats: [BucketStats] = []
        starts.reserveCapacity(earlier.windowStarts.count + later.windowStarts.count)
        stats.reserveCapacity(starts.capacity)
        var (i, j) = (0, 0)
        while i < earlier.windowStarts.count || j < later.windowStarts.count {
            if j == later.windowStarts.count || (i < earlier.windowStarts.count && earlier.windowStarts[i] < later.windowStarts[j]) {
                starts.append(earlier.windowStarts[i]); stats.append(earlier.stats[i]); i += 1
            } else if i == earlier.windowStarts.count || later.windowStarts[j] < earlier.windowStarts[i] {
                starts.append(later.windowStarts[j]); stats.append(later.stats[j]); j += 1
            } else {
                starts.append(earlier.windowStarts[i]); stats.append(earlier.stats[i].merging(later.stats[j])); i += 1; j += 1
            }
        }
        return BucketGroup(series: earlier.series, resolution: earlier.resolution, windowStarts: starts, stats: stats)
    }
}
