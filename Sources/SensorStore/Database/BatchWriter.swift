internal import GRDB
internal import Foundation
import SensorCore

/// Applies one ``FlushBatch`` inside the writer's open transaction, with cached prepared
/// statements only (no SQL text is built per row).
///
/// Series ids come from the committed id cache, else one indexed lookup, else an insert.
/// Bucket deltas are grouped by chunk (``ChunkLayout``: one row per series, resolution
/// and 32 windows), and each chunk touched costs one UPSERT of its new bytes
/// (``ChunkUpdate``), built from the cached bytes of the chunk this store wrote last
/// (``ChunkCache``) or, for an older chunk (late readings, the first flush after a
/// restart), from the row read back.
///
/// Threads share the groups' work when they hold several buckets each: ``ChunkPreparer``s
/// on threads of their own build the groups (``BucketGroupSource``) and merge the chunks
/// whose stored bytes need no read, while this one, the writer's, runs the SQL as they come
/// (``ThreadHandoff``). After a burst, building and merging were most of the flush, on one
/// core while the other was idle.
///
/// A bucket that cannot be stored (stats that are not finite, alone or merged with the
/// stored ones, or a stored chunk that does not decode) is set aside: written whole to
/// `set_aside_buckets` and left out, while the rest of the flush is stored. Errors of the
/// database itself (disk full, I/O, locked) fail the whole write.
///
/// The series this transaction created are collected in `createdIDs` and reach the
/// store's id cache only after the commit. The chunks it writes go to the store's chunk
/// cache as they are written, which the store empties should the transaction fail
/// (``ChunkCache``).
struct BatchWriter {
    let db: Database
    /// Owner of the caches.
    let store: SQLiteStore
    private(set) var createdIDs: [SeriesKey: Int64] = [:]
    /// The written buckets, as stored, that `report` asked for.
    private(set) var written: [Bucket] = []
    /// The buckets left out, with why.
    private(set) var setAside: [SetAsideBucket] = []
    /// Series this transaction inserted: no chunk of theirs is stored but those it wrote.
    private var insertedSeries: Set<Int64> = []
    /// Merges the chunks this thread prepares: those read back, and those of groups
    /// written here whole.
    private var preparer: ChunkPreparer
    let report: (@Sendable (SeriesKey, Resolution) -> Bool)?

    /// Writes a preparing thread hands over at a time, and how many such hand-offs may wait
    /// per thread.
    private static let handoffSize = 256
    private static let handoffCapacity = 4
    /// Buckets per group from which groups are prepared on threads of their own
    /// (``writeGroups(_:_:)``). A burst of 1,000 devices × 4 metrics over 10 minutes holds
    /// about 24; 100,000 series of 4 readings, about 1.3.
    private static let bucketsPerGroupToPrepareApart = 4

    init(db: Database, store: SQLiteStore, report: (@Sendable (SeriesKey, Resolution) -> Bool)?) {
        self.db = db
        self.store = store
        self.report = report
        self.preparer = ChunkPreparer(store: store)
    }

    mutating func write(_ batch: FlushBatch) throws {
        // Sized up front: with 100,000 series in a flush, growing these sets rehashed
        // every entry at each doubling (3% of the run's CPU in a profile).
        createdIDs.reserveCapacity(batch.series.count)
        store.chunkCache.withLock { $0.reserveCapacity(batch.groupCount) }
        try writeSeries(batch)

        let statements = ChunkStatements(
            select: BoundStatement(try db.cachedStatement(sql: "SELECT data FROM chunks WHERE series_id = ? AND resolution_s = ? AND chunk_start_us = ?"), in: db),
            upsert: BoundStatement(try db.cachedStatement(sql: """
                INSERT INTO chunks (series_id, resolution_s, chunk_start_us, data) VALUES (?, ?, ?, ?)
                ON CONFLICT (series_id, resolution_s, chunk_start_us) DO UPDATE SET data = excluded.data
                """), in: db))
        try writeGroups(batch, statements)

        if !batch.checkpoints.isEmpty {
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO journal_checkpoints (shard, position) VALUES (?, ?)
                ON CONFLICT (shard) DO UPDATE SET position = max(position, excluded.position)
                """)
            for (shard, position) in batch.checkpoints {
                try upsert.execute(arguments: [shard, position])
            }
        }
        if !batch.batchMarks.isEmpty {
            try writeBatchMarks(batch.batchMarks)
        }
        if !batch.seqWindows.isEmpty { batch.seqWindowsDurable?() }
    }

    /// Adds the parts taken to each batch's `batch_ledger` row.
    private func writeBatchMarks(_ marks: [BatchMark]) throws {
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO batch_ledger (stream, ordinal, parts, taken_us) VALUES (?, ?, ?, ?)
            ON CONFLICT (stream, ordinal) DO UPDATE SET parts = parts || ',' || excluded.parts, taken_us = max(taken_us, excluded.taken_us)
            """)
        let now = WallClock.microseconds()
        for (identity, parts) in Dictionary(grouping: marks, by: \.identity) {
            let text = LedgerParts.text(parts.map(\.part))
            try upsert.execute(arguments: [identity.stream, Int64(bitPattern: identity.ordinal), text, now])
        }
    }

    private struct ChunkStatements {
        let select: BoundStatement
        let upsert: BoundStatement
    }

    /// The stored bytes of a chunk, nil when it has no row.
    private func readBack(_ key: ChunkKey, _ select: BoundStatement) throws -> [UInt8]? {
        select.bind(1, key.seriesID)
        select.bind(2, key.resolution.seconds)
        select.bind(3, key.chunkStart)
        defer { select.reset() }
        guard try select.step() else { return nil }
        return select.withBlob(0) { [UInt8]($0) }
    }

    /// Writes every group, each made ready by a ``ChunkPreparer`` first. After a burst
    /// (``FlushBatch/ingestIsQuiet``), when the groups hold several buckets each, building
    /// and merging them outweighs their SQL: they are prepared on threads of their own, one
    /// per core, each walking its share of the batch's sources, and written here as they
    /// come. With a bucket or two a group (many sparse series) the SQL sets the pace, and
    /// under steady load the threads would only compete with ingest and hold more memory
    /// (4,000,000 readings at 1.4M a second: 5% more CPU, peak RSS 165-173 -> 180-192 MiB):
    /// then each group is prepared and written here.
    private mutating func writeGroups(_ batch: FlushBatch, _ statements: ChunkStatements) throws {
        let parts = min(ProcessInfo.processInfo.activeProcessorCount, batch.groupSources.count)
        guard batch.ingestIsQuiet, parts > 1, batch.bucketCount >= Self.bucketsPerGroupToPrepareApart * batch.groupCount else {
            try batch.forEachGroup { group in try write(group, statements) }
            return
        }
        // Every series of the batch has its id now (``writeSeries(_:)``), known or inserted.
        let (created, inserted, known) = (createdIDs, insertedSeries, store.seriesIDs.withLock { $0 })
        @Sendable func id(of series: SeriesKey) -> (id: Int64, inserted: Bool)? {
            if let id = created[series] { return (id, inserted.contains(id)) }
            if case .known(let id) = known.lookUp(series) { return (id, false) }
            return nil
        }
        let handoff = ThreadHandoff<PreparedWrite>(capacity: Self.handoffCapacity * parts, producers: parts)
        for part in 0..<parts {
            let preparing = Thread { [store] in
                var preparer = ChunkPreparer(store: store)
                var writes: [PreparedWrite] = []
                do {
                    try batch.forEachGroup(inPart: part, of: parts) { group in
                        preparer.prepare(group, id: id(of:), into: &writes)
                        if writes.count >= Self.handoffSize {
                            guard handoff.put(writes) else { throw CancellationError() }
                            writes = []
                        }
                    }
                    if !writes.isEmpty { _ = handoff.put(writes) }
                    handoff.finish()
                } catch {
                    handoff.finish(failure: error)
                }
            }
            preparing.name = "sensorhub-flush-prepare"
            preparing.start()
        }
        do {
            while let writes = try handoff.take() { try write(writes, statements) }
        } catch {
            // Whatever ends the writing early (an SQL error, a group that does not validate)
            // stops the preparing threads; the write returns once they have ended.
            handoff.cancel()
            handoff.waitUntilFinished()
            throw error
        }
    }

    /// Runs prepared writes, in order.
    private mutating func write(_ writes: [PreparedWrite], _ statements: ChunkStatements) throws {
        for prepared in writes {
            switch prepared {
            case .setAside(let bucket, let reason): try setAside(bucket, because: reason)
            case .group(let group): try write(group, statements)
            case .chunk(let chunk): try write(chunk, statements)
            }
        }
    }

    /// Writes one group's deltas, chunk by chunk, all of it here: when groups are not
    /// prepared apart, or for a group whose series a preparing thread could not find.
    private mutating func write(_ group: BucketGroup, _ statements: ChunkStatements) throws {
        // Unstorable on its own: set aside before it could create its series.
        let storable = try ChunkRuns.storable(group) { position, problem in
            try setAside(group.bucket(position), because: problem)
        }
        guard let first = storable.first else { return }
        let id = try seriesID(group.series, lastSeen: group.stats[first].lastTimestamp)
        let (stats, runs) = ChunkRuns.split(group, positions: storable)
        for run in runs {
            let key = ChunkKey(seriesID: id, resolution: group.resolution, chunkStart: run.chunkStart)
            // Prepared here, so what it was merged into is current.
            let chunk = preparer.prepare(key, of: group.series, run.deltas, stats, seriesInserted: insertedSeries.contains(id))
            try write(chunk, merged: chunk.merged?.result, statements)
        }
    }

    /// Writes one chunk: merged here, from its row read back, when its stored bytes had to
    /// be read or this transaction wrote the chunk since it was merged (``MergeBasis``).
    private mutating func write(_ chunk: PreparedChunk, _ statements: ChunkStatements) throws {
        let prepared = chunk.merged.flatMap { merged in
            store.chunkCache.withLock { merged.basis.isCurrent(for: chunk.key, in: $0) } ? merged.result : nil
        }
        try write(chunk, merged: prepared, statements)
    }

    /// Writes one chunk, `prepared` (merged into bytes still current) or else merged here
    /// from its row read back.
    private mutating func write(_ chunk: PreparedChunk, merged prepared: Result<MergedChunk, ChunkCodec.Damage>?, _ statements: ChunkStatements) throws {
        let merged: Result<MergedChunk, ChunkCodec.Damage>
        if let prepared {
            merged = prepared
        } else {
            let stored = try readBack(chunk.key, statements.select)
            merged = preparer.merge(chunk, into: stored)
        }
        switch merged {
        case .failure(let damage):
            for delta in chunk.deltas { try setAside(chunk.bucket(delta), because: "the stored chunk of its window is damaged (\(damage))") }
        case .success(let merged):
            try writeMerged(chunk, merged, statements)
        }
    }

    /// Reports and sets aside what the merge says of each delta, and writes the chunk's
    /// new bytes back when a delta changed them.
    private mutating func writeMerged(_ chunk: PreparedChunk, _ merged: MergedChunk, _ statements: ChunkStatements) throws {
        var changed = false
        let reporting = report?(chunk.series, chunk.key.resolution) ?? false
        // By index, not by zip: zip hands out a copy of each result, and a merged one holds
        // a bucket.
        for index in merged.results.indices {
            switch merged.results[index] {
            case .added:
                changed = true
                if reporting { written.append(chunk.bucket(chunk.deltas[index])) }
            case .merged(let stats):
                changed = true
                if reporting {
                    written.append(Bucket(series: chunk.series, resolution: chunk.key.resolution, windowStart: chunk.deltas[index].windowStart, stats: stats))
                }
            case .setAside(let reason):
                try setAside(chunk.bucket(chunk.deltas[index]), because: reason)
            }
        }
        guard changed else { return }
        let upsert = statements.upsert
        upsert.bind(1, chunk.key.seriesID)
        upsert.bind(2, chunk.key.resolution.seconds)
        upsert.bind(3, chunk.key.chunkStart)
        upsert.bind(4, merged.bytes)
        try upsert.run()
        store.chunkCache.withLock { $0.record(chunk.key.cacheSlot, chunkStart: chunk.key.chunkStart, bytes: merged.bytes) }
    }

    /// Keeps a delta that cannot be stored in `set_aside_buckets`, whole.
    private mutating func setAside(_ delta: Bucket, because reason: String) throws {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO set_aside_buckets (device, metric, resolution_s, start_us, reason, stats, set_aside_us)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        try insert.execute(arguments: [
            delta.series.device, delta.series.metric, delta.resolution.seconds, delta.windowStart, reason,
            Data(delta.stats.encoded), WallClock.microseconds(),
        ])
        setAside.append(SetAsideBucket(series: delta.series, resolution: delta.resolution, windowStart: delta.windowStart, reason: reason))
    }

    /// Adds each series' counts, or inserts the series with them when it is new, and
    /// stores its seq window in the same statement (a later window of a series in the
    /// batch wins); then the windows of series without counts in the batch: all their
    /// readings were duplicates, or came after the flush took its buckets (the pipeline
    /// stores windows as ingress has them). A series new that way is inserted with the
    /// latest event time of its window as last seen, and its counts come with the next
    /// flush: a last-seen of 0 would read as silent since 1970 to `absent` rules.
    private mutating func writeSeries(_ batch: FlushBatch) throws {
        var seqWindows: [SeriesKey: ArraySlice<UInt8>] = [:]
        seqWindows.reserveCapacity(batch.seqWindows.count)
        batch.seqWindows.forEach { series, encoded in seqWindows[series] = encoded }
        let update = BoundStatement(try db.cachedStatement(sql: """
            UPDATE series SET readings = readings + ?, last_seen_us = max(last_seen_us, ?) WHERE id = ?
            """), in: db)
        let updateWithWindow = BoundStatement(try db.cachedStatement(sql: """
            UPDATE series SET readings = readings + ?, last_seen_us = max(last_seen_us, ?), seq_window = ? WHERE id = ?
            """), in: db)
        let insert = BoundStatement(try db.cachedStatement(sql: """
            INSERT INTO series (device, metric, readings, last_seen_us) VALUES (?, ?, ?, ?)
            """), in: db)
        let insertWithWindow = BoundStatement(try db.cachedStatement(sql: """
            INSERT INTO series (device, metric, readings, last_seen_us, seq_window) VALUES (?, ?, ?, ?, ?)
            """), in: db)
        for delta in batch.series {
            let window = seqWindows.removeValue(forKey: delta.series)
            if let id = try existingID(delta.series) {
                let statement = window == nil ? update : updateWithWindow
                statement.bind(1, delta.readings)
                statement.bind(2, delta.lastSeen)
                if let window { statement.bind(3, window) }
                statement.bind(window == nil ? 3 : 4, id)
                try statement.run()
            } else {
                let statement = window == nil ? insert : insertWithWindow
                statement.bind(1, delta.series.device)
                statement.bind(2, delta.series.metric)
                statement.bind(3, delta.readings)
                statement.bind(4, delta.lastSeen)
                if let window { statement.bind(5, window) }
                try statement.run()
                inserted(delta.series, id: db.lastInsertedRowID)
            }
        }
        if !seqWindows.isEmpty {
            let updateWindow = BoundStatement(try db.cachedStatement(sql: "UPDATE series SET seq_window = ? WHERE id = ?"), in: db)
            for (series, window) in seqWindows {
                let lastSeen = SeqWindow(encoded: Array(window))?.latestTimestamp ?? 0
                updateWindow.bind(1, window)
                updateWindow.bind(2, try seriesID(series, lastSeen: lastSeen))
                try updateWindow.run()
            }
        }
    }

    /// The id of `series` if its row exists: from the caches, else one indexed lookup.
    private mutating func existingID(_ series: SeriesKey) throws -> Int64? {
        if let id = createdIDs[series] { return id }
        switch store.seriesIDs.withLock({ $0.lookUp(series) }) {
        case .known(let id): return id
        case .new: return nil
        case .unknown: break
        }
        let select = try db.cachedStatement(sql: "SELECT id FROM series WHERE device = ? AND metric = ?")
        guard let id = try Int64.fetchOne(select, arguments: [series.device, series.metric]) else { return nil }
        createdIDs[series] = id
        return id
    }

    private mutating func inserted(_ series: SeriesKey, id: Int64) {
        createdIDs[series] = id
        insertedSeries.insert(id)
    }

    /// The id of `series`, inserting the row (0 readings, `lastSeen`) when it is new.
    private mutating func seriesID(_ series: SeriesKey, lastSeen: Int64) throws -> Int64 {
        if let id = try existingID(series) { return id }
        let insert = try db.cachedStatement(sql: """
            INSERT INTO series (device, metric, readings, last_seen_us) VALUES (?, ?, 0, ?)
            """)
        try insert.execute(arguments: [series.device, series.metric, lastSeen])
        inserted(series, id: db.lastInsertedRowID)
        return db.lastInsertedRowID
    }
}

extension Optional where Wrapped == [UInt8] {
    /// The bytes, or nil, as a raw buffer for the duration of `body`.
    package func withUnsafeOptionalBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer?) throws(E) -> R) throws(E) -> R {
        guard let bytes = self else { return try body(nil) }
        return try bytes.withUnsafeBytes { buffer in Result { () throws(E) -> R in try body(buffer) } }.get()
    }
}
