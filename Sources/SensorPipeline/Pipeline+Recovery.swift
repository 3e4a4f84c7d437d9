internal import Glibc
internal import SensorCore
internal import SensorStore
internal import Logging

extension Pipeline {
    /// Brings the pipeline back to where the last run left off, before any reading is
    /// taken: loads the checkpoints and seq windows, replays every journal shard from its
    /// checkpoint into the aggregators and the seq windows, flushes (which commits the new
    /// checkpoints and windows), deletes the replayed segments and opens a fresh segment
    /// per shard.
    ///
    /// Journal folders of shards the current configuration no longer has are replayed
    /// too: readings go to whichever shard their series hashes to now. The replay is held
    /// in memory until its flush; it covers what arrived since the last committed flush
    /// (about one flush interval, unless flushes were failing), and its size in memory is
    /// the number of distinct buckets it touches, not the number of readings.
    func recover() async throws {
        let started = ContinuousClock.now
        let now = WallClock.microseconds()
        let state = try await store.recoveryState(batchesSince: now - BatchLedger.retention.microseconds)
        let slots = series.load(state.series)
        for (mark, takenAt) in state.takenBatches { batchLedger.record(mark, at: takenAt) }
        // One pass, each window to its series' shard (a pass per shard was shards × windows).
        for (place, window) in state.windows {
            let slot = slots[place]
            shards[Int(slot.shard)].ingress.restore(window, of: slot.index)
        }
        guard journal.enabled else {
            for shard in shards {
                shard.ingress.open(journal: nil, position: state.checkpoints[shard.index] ?? 0)
            }
            logger.warning("the ingest journal is switched off: acknowledged readings are lost if the process dies before their flush")
            return
        }

        try SegmentFiles.makeDirectory(journal.directory)
        var ends = state.checkpoints
        var total = JournalReplay.Summary()
        for journalShard in try SegmentFiles.shardIndices(in: journal.directory) {
            let directory = SegmentFiles.shardDirectory(journal.directory, shard: journalShard)
            let checkpoint = state.checkpoints[journalShard] ?? 0
            let summary = try JournalReplay(directory: directory).run(from: checkpoint) { line in
                logger.warning("\(line)")
            } handle: { readings, mark, position in
                if let mark { batchLedger.record(mark, at: now) }
                // The mark goes with one of the parts, to be stored once by the flush below.
                var unstoredMark = mark
                for (index, part) in partition(readings, slots: series.register(readings)).enumerated() where !part.isEmpty {
                    shards[index].ingress.recordReplayed(part)
                    shards[index].aggregator.apply([JournaledBatch(part, position: 0, acceptedAt: nil, mark: unstoredMark)])
                    unstoredMark = nil
                }
            }
            ends[journalShard] = max(checkpoint, summary.end)
            total.records += summary.records
            total.readings += summary.readings
            total.corruptRecords += summary.corruptRecords
            total.tornBytes += summary.tornBytes
        }
        let flushed = await flusher.flush(extraCheckpoints: ends)
        if flushed {
            for journalShard in try SegmentFiles.shardIndices(in: journal.directory) {
                Self.removeSegments(in: SegmentFiles.shardDirectory(journal.directory, shard: journalShard), before: ends[journalShard] ?? 0, logger: logger)
            }
        }
        for shard in shards {
            let writer = try JournalWriter(
                directory: SegmentFiles.shardDirectory(journal.directory, shard: shard.index),
                position: ends[shard.index] ?? 0, segmentBytes: journal.segmentBytes, sync: journal.sync)
            shard.ingress.open(journal: writer, position: 0)
        }
        let elapsed = ContinuousClock.now - started
        var metadata: Logger.Metadata = [
            "readings": "\(total.readings)", "records": "\(total.records)", "duration": "\(elapsed)",
            "directory": "\(journal.directory)",
        ]
        if total.corruptRecords > 0 { metadata["damaged_records_skipped"] = "\(total.corruptRecords)" }
        if total.tornBytes > 0 { metadata["torn_bytes_cut"] = "\(total.tornBytes)" }
        if !flushed { metadata["flushed"] = "false" }
        logger.info("replayed the ingest journal", metadata: metadata)
        if total.corruptRecords > 0 { metrics.recordJournalDamage(total.corruptRecords) }
    }

    /// Deletes the segment files of a replayed shard folder that hold nothing past `end`.
    private static func removeSegments(in directory: String, before end: Int64, logger: Logger) {
        guard let starts = try? SegmentFiles.list(in: directory) else { return }
        for start in starts where start < end {
            let path = "\(directory)/\(SegmentFiles.name(startingAt: start))"
            if unlink(path) != 0 {
                logger.warning("cannot delete a replayed journal segment", metadata: ["path": "\(path)", "error": "\(SystemError.text(errno))"])
            }
        }
    }
}
