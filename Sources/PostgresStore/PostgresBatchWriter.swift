import Foundation
import NIOCore
internal import PostgresNIO
import SensorCore
import SensorStore

/// Applies one ``FlushBatch`` inside an open PostgreSQL transaction, in a fixed order so
/// that daemons flushing at once never deadlock in the common case (a deadlock that
/// still happens aborts one transaction, which ``PostgresStore/write(_:report:)`` runs
/// again):
/// 1. the batch's new series are inserted (`ON CONFLICT DO NOTHING`: another daemon may
///    insert the same one), and every series row it touches is locked in id order;
/// 2. series totals are added;
/// 3. the chunks the deltas fall in are read back, merged (``ChunkUpdate``: the same
///    bytes SQLite writes) and written, a few statements for the whole flush, not one per
///    chunk: the series locks of step 1 keep any other writer off these chunks meanwhile;
/// 4. seq windows, this daemon's journal checkpoints and batch marks.
///
/// A batch with an ``FlushBatch/id`` this daemon committed last is not written again: a
/// retry after a commit whose answer was lost.
///
/// Buckets that cannot be stored are set aside, as in SQLite: written whole to
/// `set_aside_buckets` and left out while the rest is stored.
struct PostgresBatchWriter {
    let connection: PostgresConnection
    let store: PostgresStore
    let report: (@Sendable (SeriesKey, Resolution) -> Bool)?
    /// Ids of every series the batch names (for the store's cache, after the commit).
    private(set) var seriesIDs: [SeriesKey: Int64] = [:]
    private(set) var written: [Bucket] = []
    private(set) var setAside: [SetAsideBucket] = []
    /// Sequenced readings not counted: their seq was counted already.
    private(set) var duplicates = 0
    private var setAsideRows: [(bucket: Bucket, reason: String)] = []
    private var chunkBytes: [UInt8] = []
    private var sketchBytes: [UInt8] = []

    /// Rows per statement when arrays are sent (bounds one message's size).
    static let rowsPerStatement = 5_000

    init(connection: PostgresConnection, store: PostgresStore, report: (@Sendable (SeriesKey, Resolution) -> Bool)?) {
        self.connection = connection
        self.store = store
        self.report = report
    }

    private struct ChunkKey: Hashable {
        var seriesID: Int64
        var resolution: Resolution
        var chunkStart: Int64
    }

    private struct Run {
        var series: SeriesKey
        var resolution: Resolution
        var chunkStart: Int64
        var deltas: [ChunkUpdate.Delta]
        /// What the deltas' positions point into (shared by the runs of one group).
        var stats: [BucketStats]
    }

    /// Writes the batch. Its `seqWindows` (the daemon's own view) are not written: the
    /// stored windows are shared, and change only through the `sequenced` readings this
    /// transaction admits under their series' locks.
    mutating func write(_ batch: FlushBatch) async throws {
        if let id = batch.id {
            // One statement, so that it also waits for an earlier attempt still committing
            // this daemon's first row: no row back means that attempt committed this batch,
            // and only its answer was lost.
            let recorded = try await connection.query("""
                INSERT INTO flush_commits (instance, last_flush) VALUES (\(store.instance), \(id))
                ON CONFLICT (instance) DO UPDATE SET last_flush = excluded.last_flush
                WHERE flush_commits.last_flush <> excluded.last_flush
                RETURNING 1
                """, logger: store.logger).decodeFirst(Int32.self)
            guard recorded != nil else { return }
        }
        var deltas: [SeriesDelta] = []
        try batch.forEachSeriesUpdate { if let delta = $0.delta { deltas.append(delta) } }
        var firstSeen: [SeriesKey: Int64] = [:]
        for delta in deltas where firstSeen[delta.series] == nil {
            firstSeen[delta.series] = delta.lastSeen
        }
        // Unstorable deltas are set aside before they could create their series.
        var runs: [Run] = []
        try batch.forEachGroup { group in runs += self.runs(of: group) }
        for run in runs where firstSeen[run.series] == nil {
            firstSeen[run.series] = run.deltas.first.map { run.stats[$0.position].lastTimestamp } ?? 0
        }
        for reading in batch.sequenced where firstSeen[reading.series] == nil {
            firstSeen[reading.series] = reading.timestamp
        }

        let stored = try await resolveAndLock(firstSeen)
        let admission = SequencedAdmission(batch.sequenced, resolutions: batch.resolutions, stored: stored)
        duplicates = admission.duplicates
        for group in admission.groups { runs += self.runs(of: group) }
        try await addTotals(deltas + admission.series)
        try await writeChunks(runs)
        try await writeSeqWindows(admission.windows)
        try await writeCheckpoints(batch.checkpoints)
        try await writeBatchMarks(batch.batchMarks)
        try await writeSetAside()
    }

    /// The storable deltas of `group` cut into chunk runs; the others are set aside.
    private mutating func runs(of group: BucketGroup) -> [Run] {
        var unstorable: [(Int, String)] = []
        let storable = ChunkRuns.storable(group) { position, problem in unstorable.append((position, problem)) }
        for (position, problem) in unstorable { setAsideRows.append((group.bucket(position), problem)) }
        let (stats, runs) = ChunkRuns.split(group, positions: storable)
        return runs.map { Run(series: group.series, resolution: group.resolution, chunkStart: $0.chunkStart, deltas: $0.deltas, stats: stats) }
    }

    // MARK: - Series

    /// Finds (or inserts, with `lastSeen` as given) every series, then locks their rows in
    /// id order; returns the stored seq windows of the locked series that have one.
    private mutating func resolveAndLock(_ lastSeen: [SeriesKey: Int64]) async throws -> [SeriesKey: SeqWindow] {
        let cached = store.seriesIDs.withLock { ids in lastSeen.keys.compactMap { key in ids[key].map { (key, $0) } } }
        for (key, id) in cached { seriesIDs[key] = id }
        let missing = lastSeen.filter { seriesIDs[$0.key] == nil }.sorted { ($0.key.device, $0.key.metric) < ($1.key.device, $1.key.metric) }
        for slice in missing.chunked(Self.rowsPerStatement) {
            let devices = slice.map(\.key.device), metrics = slice.map(\.key.metric), times = slice.map(\.value)
            try await connection.query("""
                INSERT INTO series (device, metric, last_seen_us)
                SELECT * FROM unnest(\(devices)::text[], \(metrics)::text[], \(times)::bigint[])
                ON CONFLICT (device, metric) DO NOTHING
                """, logger: store.logger)
            let rows = try await connection.query("""
                SELECT id, device, metric FROM series
                WHERE (device, metric) IN (SELECT * FROM unnest(\(devices)::text[], \(metrics)::text[]))
                """, logger: store.logger)
            for try await (id, device, metric) in rows.decode((Int64, String, String).self) {
                seriesIDs[SeriesKey(device: device, metric: metric)] = id
            }
        }
        let keys = Dictionary(uniqueKeysWithValues: seriesIDs.map { ($0.value, $0.key) })
        var windows: [SeriesKey: SeqWindow] = [:]
        for slice in keys.keys.sorted().chunked(Self.rowsPerStatement) {
            let rows = try await connection.query("""
                SELECT id, seq_window, last_seen_us FROM series WHERE id = ANY(\(slice)::bigint[]) ORDER BY id FOR UPDATE
                """, logger: store.logger)
            for try await (id, encoded, lastSeen) in rows.decode((Int64, ByteBuffer?, Int64).self) {
                guard let encoded, let key = keys[id] else { continue }
                guard let window = SeqWindow(encoded: Array(encoded.readableBytesView), latestTimestamp: lastSeen) else {
                    throw StoreError.database(operation: "write", reason: "the seq window of \(key) does not decode (damaged, or written by a newer SensorHub)")
                }
                windows[key] = window
            }
        }
        return windows
    }

    private func id(of series: SeriesKey) throws -> Int64 {
        guard let id = seriesIDs[series] else { throw StoreError.invalidBatch("series \(series) was not resolved") }
        return id
    }

    /// Adds each series' readings and keeps its latest event time (deltas of one series summed first).
    private func addTotals(_ deltas: [SeriesDelta]) async throws {
        var totals: [Int64: (readings: Int64, lastSeen: Int64)] = [:]
        for delta in deltas {
            let id = try id(of: delta.series)
            let previous = totals[id] ?? (0, .min)
            totals[id] = (previous.readings + delta.readings, max(previous.lastSeen, delta.lastSeen))
        }
        for slice in totals.sorted(by: { $0.key < $1.key }).chunked(Self.rowsPerStatement) {
            let ids = slice.map(\.key), readings = slice.map(\.value.readings), lastSeen = slice.map(\.value.lastSeen)
            try await connection.query("""
                UPDATE series AS s SET readings = s.readings + u.readings, last_seen_us = greatest(s.last_seen_us, u.last_seen)
                FROM unnest(\(ids)::bigint[], \(readings)::bigint[], \(lastSeen)::bigint[]) AS u(id, readings, last_seen)
                WHERE s.id = u.id
                """, logger: store.logger)
        }
    }

    // MARK: - Chunks

    /// Reads the stored chunks the runs fall in, merges each run into its chunk (runs of
    /// one chunk in batch order) and writes the changed chunks back.
    private mutating func writeChunks(_ runs: [Run]) async throws {
        guard !runs.isEmpty else { return }
        var stored: [ChunkKey: [UInt8]] = [:]
        let keys = Array(Set(try runs.map { ChunkKey(seriesID: try id(of: $0.series), resolution: $0.resolution, chunkStart: $0.chunkStart) }))
        for slice in keys.chunked(Self.rowsPerStatement) {
            let ids = slice.map(\.seriesID), resolutions = slice.map(\.resolution.seconds), starts = slice.map(\.chunkStart)
            let rows = try await connection.query("""
                SELECT c.series_id, c.resolution_s, c.chunk_start_us, c.data FROM chunks AS c
                JOIN unnest(\(ids)::bigint[], \(resolutions)::bigint[], \(starts)::bigint[]) AS k(series_id, resolution_s, chunk_start_us)
                  ON c.series_id = k.series_id AND c.resolution_s = k.resolution_s AND c.chunk_start_us = k.chunk_start_us
                """, logger: store.logger)
            for try await (id, seconds, start, data) in rows.decode((Int64, Int64, Int64, ByteBuffer).self) {
                guard let resolution = Resolution(seconds: seconds) else { continue }
                stored[ChunkKey(seriesID: id, resolution: resolution, chunkStart: start)] = Array(data.readableBytesView)
            }
        }
        var changed: Set<ChunkKey> = []
        for run in runs {
            let key = ChunkKey(seriesID: try id(of: run.series), resolution: run.resolution, chunkStart: run.chunkStart)
            if try merge(run, into: stored[key]) {
                stored[key] = chunkBytes.rightSizedCopy
                changed.insert(key)
            }
        }
        for slice in changed.sorted(by: { ($0.seriesID, $0.resolution.seconds, $0.chunkStart) < ($1.seriesID, $1.resolution.seconds, $1.chunkStart) })
            .chunked(Self.rowsPerStatement) {
            let ids = slice.map(\.seriesID), resolutions = slice.map(\.resolution.seconds), starts = slice.map(\.chunkStart)
            let data = slice.map { ByteBuffer(bytes: stored[$0] ?? []) }
            try await connection.query("""
                INSERT INTO chunks (series_id, resolution_s, chunk_start_us, data)
                SELECT * FROM unnest(\(ids)::bigint[], \(resolutions)::bigint[], \(starts)::bigint[], \(data)::bytea[])
                ON CONFLICT (series_id, resolution_s, chunk_start_us) DO UPDATE SET data = excluded.data
                """, logger: store.logger)
        }
    }

    /// Merges one run's deltas into the chunk's bytes (into `chunkBytes`); returns whether
    /// any delta was stored.
    private mutating func merge(_ run: Run, into bytes: [UInt8]?) throws -> Bool {
        func bucket(_ delta: ChunkUpdate.Delta) -> Bucket {
            Bucket(series: run.series, resolution: run.resolution, windowStart: delta.windowStart, stats: run.stats[delta.position])
        }
        let results: [ChunkUpdate.Result]
        do {
            results = try bytes.withUnsafeOptionalBytes { buffer throws(ChunkCodec.Damage) in
                // Forms 0-3 only: daemons built before form 4 may share the database, and they
                // would read a form-4 record as damage.
                try ChunkUpdate.apply(
                    run.deltas, stats: run.stats, to: buffer, chunkStart: run.chunkStart, resolution: run.resolution,
                    output: &chunkBytes, sketchBytes: &sketchBytes, decimal: false)
            }
        } catch {
            for delta in run.deltas { setAsideRows.append((bucket(delta), "the stored chunk of its window is damaged (\(error))")) }
            return false
        }
        var changed = false
        let reporting = report?(run.series, run.resolution) ?? false
        for (delta, result) in zip(run.deltas, results) {
            switch result {
            case .added:
                changed = true
                if reporting { written.append(bucket(delta)) }
            case .merged(let merged):
                changed = true
                if reporting {
                    written.append(Bucket(series: run.series, resolution: run.resolution, windowStart: delta.windowStart, stats: merged))
                }
            case .setAside(let reason):
                setAsideRows.append((bucket(delta), reason))
            }
        }
        return changed
    }

    // MARK: - Recovery state

    private func writeSeqWindows(_ windows: [SeriesKey: SeqWindow]) async throws {
        for slice in try windows.map({ (try id(of: $0.key), $0.value) }).sorted(by: { $0.0 < $1.0 }).chunked(Self.rowsPerStatement) {
            let ids = slice.map(\.0), encoded = slice.map { ByteBuffer(bytes: $0.1.encoded) }
            try await connection.query("""
                UPDATE series AS s SET seq_window = u.encoded FROM unnest(\(ids)::bigint[], \(encoded)::bytea[]) AS u(id, encoded)
                WHERE s.id = u.id
                """, logger: store.logger)
        }
    }

    private func writeCheckpoints(_ checkpoints: [Int: Int64]) async throws {
        guard !checkpoints.isEmpty else { return }
        let sorted = checkpoints.sorted { $0.key < $1.key }
        let shards = sorted.map { Int32($0.key) }, positions = sorted.map(\.value)
        try await connection.query("""
            INSERT INTO journal_checkpoints (instance, shard, position)
            SELECT \(store.instance), u.shard, u.position FROM unnest(\(shards)::integer[], \(positions)::bigint[]) AS u(shard, position)
            ON CONFLICT (instance, shard) DO UPDATE SET position = greatest(journal_checkpoints.position, excluded.position)
            """, logger: store.logger)
    }

    /// Adds the parts taken to each batch's `batch_ledger` row.
    private func writeBatchMarks(_ marks: [BatchMark]) async throws {
        guard !marks.isEmpty else { return }
        let now = WallClock.microseconds()
        let rows = Dictionary(grouping: marks, by: \.identity).map { identity, parts in
            (identity.stream, Int64(bitPattern: identity.ordinal), LedgerParts.text(parts.map(\.part)))
        }
        for slice in rows.chunked(Self.rowsPerStatement) {
            let streams = slice.map(\.0), ordinals = slice.map(\.1), parts = slice.map(\.2), times = slice.map { _ in now }
            try await connection.query("""
                INSERT INTO batch_ledger (stream, ordinal, parts, taken_us)
                SELECT * FROM unnest(\(streams)::text[], \(ordinals)::bigint[], \(parts)::text[], \(times)::bigint[])
                ON CONFLICT (stream, ordinal) DO UPDATE SET parts = batch_ledger.parts || ',' || excluded.parts,
                  taken_us = greatest(batch_ledger.taken_us, excluded.taken_us)
                """, logger: store.logger)
        }
    }

    private mutating func writeSetAside() async throws {
        guard !setAsideRows.isEmpty else { return }
        let now = WallClock.microseconds()
        for slice in setAsideRows.chunked(Self.rowsPerStatement) {
            let devices = slice.map(\.bucket.series.device), metrics = slice.map(\.bucket.series.metric)
            let resolutions = slice.map(\.bucket.resolution.seconds), starts = slice.map(\.bucket.windowStart)
            let reasons = slice.map(\.reason), stats = slice.map { ByteBuffer(bytes: $0.bucket.stats.encoded) }
            let times = slice.map { _ in now }
            try await connection.query("""
                INSERT INTO set_aside_buckets (device, metric, resolution_s, start_us, reason, stats, set_aside_us)
                SELECT * FROM unnest(\(devices)::text[], \(metrics)::text[], \(resolutions)::bigint[], \(starts)::bigint[],
                                     \(reasons)::text[], \(stats)::bytea[], \(times)::bigint[])
                """, logger: store.logger)
        }
        setAside = setAsideRows.map {
            SetAsideBucket(series: $0.bucket.series, resolution: $0.bucket.resolution, windowStart: $0.bucket.windowStart, reason: $0.reason)
        }
    }
}

extension Array {
    /// The elements in consecutive slices of at most `size`.
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
