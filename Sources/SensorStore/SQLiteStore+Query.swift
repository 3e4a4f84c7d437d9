internal import GRDB
import SensorCore

extension SQLiteStore: UnflushedAggregateReader {
    /// Series matching the globs joined with their chunks of one resolution in a start
    /// range. The CROSS JOIN keeps `series` as the outer loop, scanned in (device, metric)
    /// order through its unique index, and reads each series' chunks through the primary
    /// key (series_id, resolution_s, chunk_start_us) as one range scan, already in time
    /// order: no sort, no temporary b-tree (checked in the tests with EXPLAIN QUERY PLAN).
    static let aggregateSQL = """
        SELECT s.id, s.device, s.metric, c.chunk_start_us, c.data
        FROM series AS s CROSS JOIN chunks AS c
        WHERE s.device GLOB ? AND s.metric GLOB ?
          AND c.series_id = s.id AND c.resolution_s = ? AND c.chunk_start_us >= ? AND c.chunk_start_us < ?
        ORDER BY s.device, s.metric, c.chunk_start_us
        """

    /// The stored span of each series matching the globs at one resolution: the start of
    /// its first and last chunk, through two primary-key probes per series (no chunk read),
    /// in (device, metric) order, the order of the unflushed series it is matched with.
    /// (The refined count walks them in id order again: see ``possibleRows(_:query:plan:limit:unflushed:)``.)
    static let seriesSpanSQL = """
        SELECT s.id, s.device, s.metric,
               (SELECT min(chunk_start_us) FROM chunks WHERE series_id = s.id AND resolution_s = ?1),
               (SELECT max(chunk_start_us) FROM chunks WHERE series_id = s.id AND resolution_s = ?1)
        FROM series AS s WHERE s.device GLOB ?2 AND s.metric GLOB ?3 ORDER BY s.device, s.metric
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
    ///
    /// Pages go to `sink` through ``AggregatePageSink/acceptBlocking(_:)``, from the reading thread and
    /// inside the read transaction.
    public func aggregates(_ query: AggregateQuery, rowLimit: Int, into sink: any AggregatePageSink) async throws(StoreError) {
        try await aggregates(query, rowLimit: rowLimit, unflushed: [], into: sink)
    }

    /// The rows of `query` as ``aggregates(_:rowLimit:into:)`` answers them, with the
    /// buckets of `unflushed` this snapshot does not hold yet merged in (those past the
    /// journal checkpoints it read: ``UnflushedPart``). The parts of one shard come older
    /// first.
    public func aggregates(_ query: AggregateQuery, rowLimit: Int, unflushed parts: [any UnflushedPart], into sink: any AggregatePageSink) async throws(StoreError) {
        do {
            try await pool.read { db in
                let plan = try WindowPlan(query: query, stored: Self.fetchResolutions(db))
                guard !plan.isEmpty else { return }
                let unflushed = UnflushedGroups(parts: parts, checkpoints: parts.isEmpty ? [:] : try Self.fetchCheckpoints(db), plan: plan)
                let possible = try Self.possibleRows(db, query: query, plan: plan, limit: rowLimit, unflushed: unflushed)
                guard possible <= Int64(rowLimit) else { throw StoreError.tooManyRows(possible: possible, limit: rowLimit) }
                let resolution = plan.resolution
                let statement = BoundStatement(try db.cachedStatement(sql: Self.aggregateSQL), in: db)
                statement.bind(1, query.deviceGlob)
                statement.bind(2, query.metricGlob)
                statement.bind(3, resolution.seconds)
                statement.bind(4, ChunkLayout.chunkStart(of: plan.bucketLow, resolution))
                statement.bind(5, plan.bucketHigh)
                defer { statement.reset() }
                var assembler = AggregateAssembler(plan: plan, expectedRows: Int(possible), pageRows: sink.pageRows, unflushed: unflushed)
                // The row's series, read only when the assembler meets a new one.
                let rowSeries = { SeriesKey(device: statement.text(1), metric: statement.text(2)) }
                while try statement.step() {
                    let chunkStart = statement.int64(3)
                    let seriesID = statement.int64(0)
                    // The series only pending that come before this chunk's, a page at a time.
                    while assembler.moveTo(seriesID: seriesID, series: rowSeries, pageBound: true) {
                        try sink.acceptBlocking(assembler.takePage())
                    }
                    try statement.withBlob(4) { bytes throws(ChunkCodec.Damage) in
                        try assembler.add(chunk: bytes, chunkStart: chunkStart, seriesID: seriesID, series: rowSeries)
                    }
                    if assembler.hasFullPage { try sink.acceptBlocking(assembler.takePage()) }
                }
                while let page = assembler.nextFinalPage() { try sink.acceptBlocking(page) }
            }
        } catch {
            throw StoreError.wrapping(error, operation: "query")
        }
    }

    /// Chunks of one series in a start range, counted through the primary key and never
    /// past the given bound (so counting costs at most that many index steps).
    static let boundedChunkCountSQL = """
        SELECT count(*) FROM (SELECT 1 FROM chunks
                              WHERE series_id = ? AND resolution_s = ? AND chunk_start_us >= ? AND chunk_start_us < ? LIMIT ?)
        """

    /// The data of a series' first or last chunk at one resolution.
    static let firstChunkSQL = "SELECT data FROM chunks WHERE series_id = ? AND resolution_s = ? ORDER BY chunk_start_us LIMIT 1"
    static let lastChunkSQL = "SELECT data FROM chunks WHERE series_id = ? AND resolution_s = ? ORDER BY chunk_start_us DESC LIMIT 1"

    /// How many rows the query could answer at most, stored and unflushed buckets together,
    /// counted before any bucket is read, up to just past `limit`.
    ///
    /// First as the matching series times the returnable windows, which bounds a query
    /// over a bounded range without reading a chunk, plus the windows of every unflushed
    /// bucket. Past `limit`, from the chunk rows' starts: per matching series, the returnable
    /// windows overlapping the span of its first to its last chunk. A chunk spans 32 windows,
    /// so for series with a few windows each this can pass `limit` while the answer would
    /// not: then each series is counted again, from its first and last bucket (read from
    /// those two chunks), and where that still passes what is left of `limit` (sparse data
    /// over a long span), from its chunks in range times the windows one chunk's buckets can
    /// lie in. Either span covers the windows of its series' unflushed buckets inside it
    /// (a flush merges them into the stored ones): only those outside it count again, and
    /// when counted again, a window two unflushed parts hold counts once.
    static func possibleRows(
        _ db: Database, query: AggregateQuery, plan: WindowPlan, limit: Int, unflushed: UnflushedGroups
    ) throws -> Int64 {
        // Cheapest of all, enough for a bounded range: every matching series with data in
        // every returnable window (one scan of the series index, no chunk probed).
        if plan.returnableWindows <= Int64(limit) {
            let matching = try Int64.fetchOne(db, sql: "SELECT count(*) FROM series WHERE device GLOB ? AND metric GLOB ?",
                                              arguments: [query.deviceGlob, query.metricGlob]) ?? 0
            let (bound, overflow) = matching.multipliedReportingOverflow(by: plan.returnableWindows)
            let all = overflow ? Int64.max : bound + unflushed.possibleRows(plan)
            if all <= Int64(limit) { return all }
        }
        let resolution = plan.resolution
        // Stored series with their unflushed position, if any; the unflushed series nothing
        // is stored of count whole.
        var spans: [(series: Int64, first: Int64, last: Int64, unflushed: Int?)] = []
        var unflushedOnly: [Int] = []
        var next = 0
        let rows = try Row.fetchCursor(db, sql: seriesSpanSQL, arguments: [resolution.seconds, query.deviceGlob, query.metricGlob])
        var coarse: Int64 = 0
        while let row = try rows.next() {
            var position: Int?
            // The names are read only while unflushed series are left to meet.
            if next < unflushed.count {
                let key = SeriesKey(device: try row.decode(String.self, atIndex: 1), metric: try row.decode(String.self, atIndex: 2))
                while next < unflushed.count && UnflushedGroups.precedes(unflushed.key(next), key) {
                    unflushedOnly.append(next)
                    next += 1
                }
                if next < unflushed.count && UnflushedGroups.same(unflushed.key(next), key) {
                    position = next
                    next += 1
                }
            }
            guard let series = row[0] as Int64?, let first = row[3] as Int64?, let last = row[4] as Int64? else {
                if let position { unflushedOnly.append(position) }
                continue
            }
            spans.append((series, first, last, position))
            let end = last + ChunkLayout.span(resolution)
            coarse += plan.windows(overlapping: first, end)
                + (position.map { unflushed.possibleRows(ofSeriesAt: $0, plan, outside: first..<end) } ?? 0)
        }
        unflushedOnly += next..<unflushed.count
        coarse += unflushedOnly.reduce(0) { $0 + unflushed.possibleRows(ofSeriesAt: $1, plan) }
        guard coarse > Int64(limit) else { return coarse }

        let count = try db.cachedStatement(sql: boundedChunkCountSQL)
        // A chunk's 32 buckets lie in at most 32 - 1 + ⌈window / step⌉ windows.
        let windowsPerChunk = ChunkLayout.windows - 1 + (plan.window + plan.step - 1) / plan.step
        let low = ChunkLayout.chunkStart(of: plan.bucketLow, resolution)
        // In id order, as the PostgreSQL store counts: the count stops once past `limit`,
        // so both stores stop at the same series and report the same estimate.
        spans.sort { $0.series < $1.series }
        var total: Int64 = 0
        for position in unflushedOnly where total <= Int64(limit) {
            total += unflushed.possibleRows(ofSeriesAt: position, plan, exactly: true)
        }
        for (series, first, last, position) in spans where total <= Int64(limit) {
            var covered = first..<(last + ChunkLayout.span(resolution))
            if let firstBucket = try edgeBucket(db, series: series, resolution: resolution, chunkStart: first, last: false),
               let lastBucket = try edgeBucket(db, series: series, resolution: resolution, chunkStart: last, last: true),
               firstBucket <= lastBucket {
                covered = firstBucket..<(lastBucket + resolution.microseconds)
            }
            let windows = plan.windows(overlapping: covered.lowerBound, covered.upperBound)
                + (position.map { unflushed.possibleRows(ofSeriesAt: $0, plan, outside: covered, exactly: true) } ?? 0)
            guard total + windows > Int64(limit) else {
                total += windows
                continue
            }
            // Counted from its chunks, the span no longer covers the unflushed buckets in it.
            let room = Int64(limit) - total + 1
            let chunks = try Int64.fetchOne(count, arguments: [
                series, resolution.seconds, low, plan.bucketHigh, (room + windowsPerChunk - 1) / windowsPerChunk,
            ]) ?? 0
            total += min(windows, chunks * windowsPerChunk + (position.map { unflushed.possibleRows(ofSeriesAt: $0, plan, exactly: true) } ?? 0))
        }
        return total
    }

    /// The window start of the first (or last) bucket of a series' first (or last) chunk.
    private static func edgeBucket(_ db: Database, series: Int64, resolution: Resolution, chunkStart: Int64, last: Bool) throws -> Int64? {
        let statement = BoundStatement(try db.cachedStatement(sql: last ? lastChunkSQL : firstChunkSQL), in: db)
        statement.bind(1, series)
        statement.bind(2, resolution.seconds)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return try statement.withBlob(0) { bytes throws(ChunkCodec.Damage) -> Int64? in
            try ChunkCodec.edgeWindowStart(of: bytes, chunkStart: chunkStart, resolution: resolution, last: last)
        }
    }

    /// Every device with its sorted metrics, latest event time and counted readings,
    /// ordered by device.
    public func devices() async throws(StoreError) -> [DeviceSummary] {
        try await devices(unflushed: [])
    }

    /// The devices as ``devices()`` lists them, with the readings of the parts of
    /// `unflushed` this snapshot does not hold yet counted in (``UnflushedTotals``).
    public func devices(unflushed parts: [any UnflushedTotals]) async throws(StoreError) -> [DeviceSummary] {
        do {
            return try await pool.read { db in
                var unflushed: [SeriesKey: (readings: Int64, lastSeen: Int64)] = [:]
                if !parts.isEmpty {
                    let checkpoints = try Self.fetchCheckpoints(db)
                    for part in parts where !part.isStored(by: checkpoints) {
                        for index in 0..<part.seriesCount {
                            let series = part.series(at: index)
                            let totals = part.totals(ofSeriesAt: index)
                            let earlier = unflushed[series] ?? (0, .min)
                            unflushed[series] = (earlier.readings + totals.readings, max(earlier.lastSeen, totals.lastSeen))
                        }
                    }
                }
                var summaries: [DeviceSummary] = []
                // Merged with unflushed series, or fed straight in when there are none.
                let merging = !unflushed.isEmpty
                var rows: [(series: SeriesKey, readings: Int64, lastSeen: Int64)] = []
                let cursor = try Row.fetchCursor(
                    db, sql: "SELECT device, metric, readings, last_seen_us FROM series ORDER BY device, metric")
                while let row = try cursor.next() {
                    let series = SeriesKey(device: try row.decode(String.self, atIndex: 0), metric: try row.decode(String.self, atIndex: 1))
                    var readings = try row.decode(Int64.self, atIndex: 2)
                    var lastSeen = try row.decode(Int64.self, atIndex: 3)
                    if let totals = unflushed.removeValue(forKey: series) {
                        readings += totals.readings
                        lastSeen = max(lastSeen, totals.lastSeen)
                    }
                    if !merging {
                        summaries.add(device: series.device, metric: series.metric, readings: readings, lastSeen: lastSeen)
                    } else {
                        rows.append((series, readings, lastSeen))
                    }
                }
                if !unflushed.isEmpty {
                    // Series no flush stored yet, in their places.
                    rows += unflushed.map { ($0.key, $0.value.readings, $0.value.lastSeen) }
                    rows.sort { UnflushedGroups.precedes($0.series, $1.series) }
                }
                for row in rows {
                    summaries.add(device: row.series.device, metric: row.series.metric, readings: row.readings, lastSeen: row.lastSeen)
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
