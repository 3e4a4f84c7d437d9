internal import GRDB
import SensorCore

extension SensorStore {
    /// Series matching the globs joined with their buckets of one resolution in a start
    /// range. The CROSS JOIN keeps `series` as the outer loop, scanned in (device, metric)
    /// order through its unique index, and reads each series' buckets through the primary
    /// key (series_id, resolution_s, start_us) as one range scan, already in start order:
    /// no sort, no temporary b-tree (checked in the tests with EXPLAIN QUERY PLAN).
    static let aggregateSQL = """
        SELECT s.id, s.device, s.metric, b.start_us,
               b.count, b.sum, b.min, b.max, b.mean, b.m2, b.first_ts_us, b.first, b.last_ts_us, b.last, b.sketch
        FROM series AS s CROSS JOIN buckets AS b
        WHERE s.device GLOB ? AND s.metric GLOB ?
          AND b.series_id = s.id AND b.resolution_s = ? AND b.start_us >= ? AND b.start_us < ?
        ORDER BY s.device, s.metric, b.start_us
        """

    /// The stored span of each series matching the globs at one resolution: its first and
    /// last bucket start, through two primary-key probes per series (no bucket scan).
    static let seriesSpanSQL = """
        SELECT s.id,
               (SELECT min(start_us) FROM buckets WHERE series_id = s.id AND resolution_s = ?1),
               (SELECT max(start_us) FROM buckets WHERE series_id = s.id AND resolution_s = ?1)
        FROM series AS s WHERE s.device GLOB ?2 AND s.metric GLOB ?3
        """

    /// Aggregates per series and window; rows ordered by device, metric, window start.
    ///
    /// Reads the buckets of the coarsest stored resolution that divides both window and
    /// step, in one read transaction (a consistent snapshot of the last committed flush),
    /// and merges them: tumbling windows group buckets by ⌊start / window⌋; sliding windows
    /// are `[k·step, k·step + window)`. Every window lying wholly inside `[from, to)` that
    /// holds data is returned; empty windows are omitted.
    ///
    /// Before any bucket is read, the windows that could hold data are counted from each
    /// matching series' stored span: past `rowLimit`, the query is refused.
    ///
    /// - Throws: ``StoreError/windowNotMultiple(window:stored:)``,
    ///   ``StoreError/stepNotMultiple(step:stored:)``,
    ///   ``StoreError/noCommonResolution(window:step:stored:)`` naming the stored
    ///   resolutions; ``StoreError/emptyRange(from:to:)``; ``StoreError/noStoredResolutions``;
    ///   ``StoreError/tooManyRows(possible:limit:)``.
    public func aggregates(_ query: AggregateQuery, rowLimit: Int = AggregateQuery.defaultRowLimit) async throws(StoreError) -> [AggregateRow] {
        do {
            return try await pool.read { db in
                let plan = try WindowPlan(query: query, stored: Self.fetchResolutions(db))
                guard !plan.isEmpty else { return [] }
                let possible = try Self.possibleRows(db, query: query, plan: plan, limit: rowLimit)
                guard possible <= Int64(rowLimit) else { throw StoreError.tooManyRows(possible: possible, limit: rowLimit) }
                let statement = BoundStatement(try db.cachedStatement(sql: Self.aggregateSQL), in: db)
                statement.bind(1, query.deviceGlob)
                statement.bind(2, query.metricGlob)
                statement.bind(3, plan.resolution.seconds)
                statement.bind(4, plan.bucketLow)
                statement.bind(5, plan.bucketHigh)
                defer { statement.reset() }
                var rows: [AggregateRow] = []
                rows.reserveCapacity(Int(possible))
                var merger = WindowMerger(plan: plan)
                let singleBuckets = merger.windowsAreSingleBuckets
                var currentID: Int64? = nil
                var currentSeries = SeriesKey(device: "", metric: "")
                while try statement.step() {
                    let id = statement.int64(0)
                    if id != currentID {
                        if currentID != nil { merger.finish(series: currentSeries, into: &rows) }
                        currentID = id
                        currentSeries = SeriesKey(device: statement.text(1), metric: statement.text(2))
                    }
                    if singleBuckets {
                        let (stats, percentiles) = statement.statsAndPercentiles(at: 4)
                        merger.addSingleBucket(start: statement.int64(3), stats: stats, percentiles: percentiles, of: currentSeries, into: &rows)
                    } else {
                        merger.add(bucketStart: statement.int64(3), stats: statement.stats(at: 4), of: currentSeries, into: &rows)
                    }
                }
                if currentID != nil { merger.finish(series: currentSeries, into: &rows) }
                return rows
            }
        } catch {
            throw StoreError.wrapping(error, operation: "query")
        }
    }

    /// Buckets of one series in a start range, counted through the primary key and never
    /// past the given bound (so counting costs at most that many index steps).
    static let boundedBucketCountSQL = """
        SELECT count(*) FROM (SELECT 1 FROM buckets
                              WHERE series_id = ? AND resolution_s = ? AND start_us >= ? AND start_us < ? LIMIT ?)
        """

    /// How many rows the query could answer at most, counted before any bucket is read.
    /// Per matching series: the returnable windows that overlap its stored span; when
    /// those are many (sparse data over a long span), the series' buckets in range times
    /// the windows one bucket can lie in, counted up to what is left of `limit`. Stops
    /// once past `limit`.
    static func possibleRows(_ db: Database, query: AggregateQuery, plan: WindowPlan, limit: Int) throws -> Int64 {
        let spans = try Row.fetchCursor(db, sql: seriesSpanSQL, arguments: [plan.resolution.seconds, query.deviceGlob, query.metricGlob])
        let count = try db.cachedStatement(sql: boundedBucketCountSQL)
        // A bucket lies in ⌈window / step⌉ windows at most (1 for tumbling windows).
        let windowsPerBucket = (plan.window + plan.step - 1) / plan.step
        var total: Int64 = 0
        while let span = try spans.next(), total <= Int64(limit) {
            guard let first = span[1] as Int64?, let last = span[2] as Int64? else { continue }
            let windows = plan.windows(overlapping: first, last + plan.resolution.microseconds)
            guard total + windows > Int64(limit) else {
                total += windows
                continue
            }
            let room = Int64(limit) - total + 1
            let buckets = try Int64.fetchOne(count, arguments: [
                span[0] as Int64, plan.resolution.seconds, plan.bucketLow, plan.bucketHigh, (room + windowsPerBucket - 1) / windowsPerBucket,
            ]) ?? 0
            total += min(windows, buckets * windowsPerBucket)
        }
        return total
    }

    /// Every device with its sorted metrics, latest event time and counted readings,
    /// ordered by device.
    public func devices() async throws(StoreError) -> [DeviceSummary] {
        do {
            return try await pool.read { db in
                let cursor = try Row.fetchCursor(
                    db, sql: "SELECT device, metric, readings, last_seen_us FROM series ORDER BY device, metric")
                var summaries: [DeviceSummary] = []
                while let row = try cursor.next() {
                    let device = try row.decode(String.self, atIndex: 0)
                    let metric = try row.decode(String.self, atIndex: 1)
                    let readings = try row.decode(Int64.self, atIndex: 2)
                    let lastSeen = try row.decode(Int64.self, atIndex: 3)
                    if let last = summaries.indices.last, summaries[last].device == device {
                        summaries[last].metrics.append(metric)
                        summaries[last].readings += readings
                        summaries[last].lastSeen = Swift.max(summaries[last].lastSeen, lastSeen)
                    } else {
                        summaries.append(DeviceSummary(device: device, metrics: [metric], lastSeen: lastSeen, readings: readings))
                    }
                }
                return summaries
            }
        } catch {
            throw StoreError.wrapping(error, operation: "listing devices")
        }
    }

    /// EXPLAIN QUERY PLAN of ``aggregateSQL`` (the `detail` column), for tests.
    func explainAggregateQuery() async throws -> [String] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + Self.aggregateSQL, arguments: ["d*", "*", 10, 0, 1_000_000])
                .map { try $0.decode(String.self, forColumn: "detail") }
        }
    }
}
