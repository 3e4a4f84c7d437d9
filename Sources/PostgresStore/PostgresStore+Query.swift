import NIOCore
internal import PostgresNIO
internal import SensorCore
public import SensorStore

extension PostgresStore {
    /// Aggregates per series and window, ordered by device, metric (bytewise, as SQLite)
    /// and window start: the plan, the row estimate and the merge are SQLite's
    /// (``AggregateAssembler``), read in one REPEATABLE READ transaction so the estimate and
    /// the rows see the same committed flushes.
    public func aggregates(_ query: AggregateQuery, rowLimit: Int, into sink: any AggregatePageSink) async throws(StoreError) {
        // Rows from the server and pages the sink took are progress: a streamed answer runs
        // as long as its client reads (the channel bounds that), while a server that stops
        // answering is given up after the usual deadline plus the channel's 30 s stall limit
        // (a page may wait that long for the client).
        let progress = TransactionProgress()
        do {
            try await transaction(deadline: Self.transactionDeadline + .seconds(30), progress: progress) { connection in
                try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: self.logger)
                var stored: [Resolution] = []
                for try await seconds in try await connection.query("SELECT seconds FROM resolutions ORDER BY seconds", logger: self.logger).decode(Int64.self) {
                    if let resolution = Resolution(seconds: seconds) { stored.append(resolution) }
                }
                let plan = try WindowPlan(query: query, stored: stored)
                guard !plan.isEmpty else { return }
                let possible = try await self.possibleRows(connection, query: query, plan: plan, limit: rowLimit)
                guard possible <= Int64(rowLimit) else { throw StoreError.tooManyRows(possible: possible, limit: rowLimit) }
                let resolution = plan.resolution
                let low = ChunkLayout.chunkStart(of: plan.bucketLow, resolution)
                let rows = try await connection.query("""
                    SELECT s.id, s.device, s.metric, c.chunk_start_us, c.data
                    FROM series AS s JOIN chunks AS c ON c.series_id = s.id
                    WHERE s.device ~ \(GlobPattern.regex(query.deviceGlob)) AND s.metric ~ \(GlobPattern.regex(query.metricGlob))
                      AND c.resolution_s = \(resolution.seconds) AND c.chunk_start_us >= \(low) AND c.chunk_start_us < \(plan.bucketHigh)
                    ORDER BY s.device COLLATE "C", s.metric COLLATE "C", c.chunk_start_us
                    """, logger: self.logger)
                var assembler = AggregateAssembler(plan: plan, expectedRows: Int(possible), pageRows: sink.pageRows)
                for try await (id, device, metric, chunkStart, data) in rows.decode((Int64, String, String, Int64, ByteBuffer).self) {
                    progress.mark()
                    try data.withUnsafeReadableBytes { bytes throws(ChunkCodec.Damage) in
                        try assembler.add(chunk: bytes, chunkStart: chunkStart, seriesID: id) { SeriesKey(device: device, metric: metric) }
                    }
                    if assembler.hasFullPage {
                        try await sink.accept(assembler.takePage())
                        progress.mark()
                    }
                }
                while let page = assembler.nextFinalPage() { try await sink.accept(page) }
            }
        } catch {
            throw StoreError.postgres(error, operation: "query")
        }
    }

    /// How many rows the query could answer at most, before any bucket is read: the
    /// matching series times the returnable windows when that is within `limit`; else per
    /// matching series, the windows overlapping the span of its first to last chunk; past
    /// `limit`, counted again per series from its first and last bucket and its chunks in
    /// range, as ``SQLiteStore`` does.
    private func possibleRows(_ connection: PostgresConnection, query: AggregateQuery, plan: WindowPlan, limit: Int) async throws -> Int64 {
        if plan.returnableWindows <= Int64(limit) {
            var matching: Int64 = 0
            for try await count in try await connection.query("""
                SELECT count(*) FROM series
                WHERE device ~ \(GlobPattern.regex(query.deviceGlob)) AND metric ~ \(GlobPattern.regex(query.metricGlob))
                """, logger: logger).decode(Int64.self) {
                matching = count
            }
            let (bound, overflow) = matching.multipliedReportingOverflow(by: plan.returnableWindows)
            if !overflow && bound <= Int64(limit) { return bound }
        }
        let resolution = plan.resolution
        var spans: [(series: Int64, first: Int64, last: Int64)] = []
        var coarse: Int64 = 0
        let rows = try await connection.query("""
            SELECT s.id, min(c.chunk_start_us), max(c.chunk_start_us)
            FROM series AS s JOIN chunks AS c ON c.series_id = s.id AND c.resolution_s = \(resolution.seconds)
            WHERE s.device ~ \(GlobPattern.regex(query.deviceGlob)) AND s.metric ~ \(GlobPattern.regex(query.metricGlob))
            GROUP BY s.id ORDER BY s.id
            """, logger: logger)
        for try await (series, first, last) in rows.decode((Int64, Int64, Int64).self) {
            spans.append((series, first, last))
            coarse += plan.windows(overlapping: first, last + ChunkLayout.span(resolution))
        }
        guard coarse > Int64(limit) else { return coarse }

        // A chunk's 32 buckets lie in at most 32 - 1 + ⌈window / step⌉ windows.
        let windowsPerChunk = ChunkLayout.windows - 1 + (plan.window + plan.step - 1) / plan.step
        let low = ChunkLayout.chunkStart(of: plan.bucketLow, resolution)
        var total: Int64 = 0
        for (series, first, last) in spans where total <= Int64(limit) {
            var windows = plan.windows(overlapping: first, last + ChunkLayout.span(resolution))
            if let firstBucket = try await edgeBucket(connection, series: series, resolution: resolution, chunkStart: first, last: false),
               let lastBucket = try await edgeBucket(connection, series: series, resolution: resolution, chunkStart: last, last: true) {
                windows = plan.windows(overlapping: firstBucket, lastBucket + resolution.microseconds)
            }
            guard total + windows > Int64(limit) else {
                total += windows
                continue
            }
            let room = Int64(limit) - total + 1
            let bound = (room + windowsPerChunk - 1) / windowsPerChunk
            let chunks = try await connection.query("""
                SELECT count(*) FROM (SELECT 1 FROM chunks WHERE series_id = \(series) AND resolution_s = \(resolution.seconds)
                                      AND chunk_start_us >= \(low) AND chunk_start_us < \(plan.bucketHigh) LIMIT \(bound)) AS bounded
                """, logger: logger).decodeFirst(Int64.self) ?? 0
            total += min(windows, chunks * windowsPerChunk)
        }
        return total
    }

    /// The window start of the first (or last) bucket of a series' first (or last) chunk.
    private func edgeBucket(_ connection: PostgresConnection, series: Int64, resolution: Resolution, chunkStart: Int64, last: Bool) async throws -> Int64? {
        let rows = try await connection.query("""
            SELECT data FROM chunks WHERE series_id = \(series) AND resolution_s = \(resolution.seconds) AND chunk_start_us = \(chunkStart)
            """, logger: logger)
        guard let data = try await rows.decodeFirst(ByteBuffer.self) else { return nil }
        return try data.withUnsafeReadableBytes { bytes throws(ChunkCodec.Damage) -> Int64? in
            try ChunkCodec.edgeWindowStart(of: bytes, chunkStart: chunkStart, resolution: resolution, last: last)
        }
    }

    /// Every device with its sorted metrics, latest event time and counted readings,
    /// ordered by device (bytewise).
    public func devices() async throws(StoreError) -> [DeviceSummary] {
        do {
            let rows = try await client.query("""
                SELECT device, metric, readings, last_seen_us FROM series ORDER BY device COLLATE "C", metric COLLATE "C"
                """, logger: logger)
            var summaries: [DeviceSummary] = []
            for try await (device, metric, readings, lastSeen) in rows.decode((String, String, Int64, Int64).self) {
                summaries.add(device: device, metric: metric, readings: readings, lastSeen: lastSeen)
            }
            return summaries
        } catch {
            throw StoreError.postgres(error, operation: "listing devices")
        }
    }
}
