internal import NIOConcurrencyHelpers
internal import SensorCore
internal import SensorStore

/// The way into one shard: de-duplication by seq, the journal append and the enqueue.
///
/// All three happen under one lock, for two reasons. The journal's order is then the
/// queue's order, so the checkpoint of a flush is simply the position of the last batch
/// the worker applied. And a batch spanning several shards can be made atomic: the
/// pipeline locks its shards in index order (``lock()``), appends to each, and either
/// enqueues everywhere or rolls every append back.
///
/// Thread-safety: `@unchecked Sendable` because every mutable field is touched only
/// between ``lock()`` and ``unlock()`` (or inside ``withLock(_:)``).
final class ShardIngress: @unchecked Sendable {
    /// A filtered batch, appended but not yet visible to the worker.
    struct Staged {
        var kept: ShardPart
        var duplicates: Int
        /// The part of an identified batch these readings are, if any.
        var mark: BatchMark?
        /// What the batch changed in the seq windows, in order: what ``rollBack(_:)`` undoes.
        fileprivate var changes: [(series: Int32, change: SeqWindowTable.Change)]
        fileprivate var previousPosition: Int64
        var position: Int64
    }

    let queue: IngestQueue
    private let mutex = NIOLock()
    /// Seq windows of the shard's series, by number (``SeriesSlot``): what is a duplicate
    /// at submit time, and what each flush stores (``takeChangedWindows(_:)``). None for a
    /// series that never sent a seq.
    private var windows = SeqWindowTable()
    private var journal: JournalWriter?
    /// Position after the last staged batch (the journal's, or a counter without one).
    private var position: Int64 = 0

    init(queue: IngestQueue) {
        self.queue = queue
    }

    /// Sets the seq window committed with the last checkpoint for the series numbered
    /// `index` (recovery, before the replay).
    func restore(_ window: SeqWindow, of index: Int32) {
        withLock { windows.restore(window, of: index) }
    }

    /// Records the seqs of readings replayed from the journal in their windows (recovery).
    ///
    /// Every replayed reading was new when it was journaled, so none is judged here. The
    /// stored windows may already hold some of them (``takeChangedWindows(_:)`` stores
    /// windows at or past the checkpoint), and a window recording a seq it holds stays as
    /// it is: the replay ends with the windows the last run had, when the journal kept
    /// every record the stored windows count (see ``takeChangedWindows(into:)``).
    func recordReplayed(_ part: ShardPart) {
        withLock {
            for (reading, index) in zip(part.readings, part.series) {
                guard let seq = reading.seq else { continue }
                windows.record(seq, at: reading.timestamp, of: index)
            }
        }
    }

    /// Opens the shard for readings once recovery is done: `journal` takes the records from
    /// its position on (without a journal, `position` counts the batches).
    func open(journal: JournalWriter?, position: Int64) {
        withLock {
            self.journal = journal
            self.position = journal?.position ?? position
        }
    }

    /// Appends the windows changed since the last call to `taken`, for a flush to store,
    /// and marks them no longer changed.
    ///
    /// Taken after the flush drained the aggregator, so they are at or past the journal
    /// position its buckets cover: they may hold seqs of readings staged since, which a
    /// replay after a crash records again without a change (``recordReplayed(_:)``).
    /// Those records must survive what the stored windows survive: with `always` every
    /// record is synced as it is appended, and with `interval` the flush syncs the journal
    /// before it commits the windows (``JournalSyncer/startSync(shards:)``). With `never`, a
    /// power loss can take records whose seqs a stored window counts, and without a
    /// journal a crash can, as those modes warn: a message redelivered because its
    /// acknowledgement was lost at that very moment is then a duplicate. One set of
    /// windows per series, kept by ingress alone: a second set in the aggregator, as of
    /// the journal position it applied, cost a hash and an admit per reading with a seq,
    /// and a window per series.
    func takeChangedWindows(_ take: (_ window: SeqWindow, _ number: Int32) -> Void) {
        withLock { windows.takeChanged(take) }
    }

    /// How many windows a flush would take now (``takeChangedWindows(_:)``).
    var changedWindowCount: Int {
        withLock { windows.changedCount }
    }

    func lock() { mutex.lock() }
    func unlock() { mutex.unlock() }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        try mutex.withLock(body)
    }

    /// Drops duplicates (by seq, also within the batch: the first occurrence counts) and
    /// appends the rest to the journal. Caller holds the lock and must then ``commit(_:)``
    /// or ``rollBack(_:)`` before unlocking.
    ///
    /// The seq windows are updated in place (found by the series' number) and what
    /// changed is kept for a roll-back, which is rare. Without duplicates the batch is
    /// kept as it came, without a copy.
    func stage(_ part: ShardPart, mark: BatchMark? = nil) throws(JournalError) -> Staged {
        var staged = Staged(kept: part, duplicates: 0, mark: mark, changes: [], previousPosition: position, position: position)
        if part.readings.contains(where: { $0.seq != nil }) {
            staged.changes.reserveCapacity(part.count)
            for (index, reading) in part.readings.enumerated() {
                let series = part.series[index]
                guard let seq = reading.seq else {
                    if staged.duplicates > 0 { staged.kept.append(reading, series: series) }
                    continue
                }
                if admit(seq, of: reading, series: series, changes: &staged.changes) {
                    if staged.duplicates > 0 { staged.kept.append(reading, series: series) }
                } else {
                    if staged.duplicates == 0 { staged.kept = part.prefix(index) }
                    staged.duplicates += 1
                }
            }
        }
        guard !staged.kept.isEmpty else { return staged }
        if let journal {
            do {
                staged.position = try journal.append(staged.kept.readings, mark: mark)
            } catch {
                undo(staged.changes)
                throw error
            }
        } else {
            staged.position = position + 1
        }
        position = staged.position
        return staged
    }

    /// Records `seq` in its series' window unless it is a duplicate; notes the change.
    @inline(__always)
    private func admit(_ seq: UInt64, of reading: Reading, series: Int32, changes: inout [(series: Int32, change: SeqWindowTable.Change)]) -> Bool {
        guard let change = windows.admit(seq, at: reading.timestamp, of: series) else { return false }
        changes.append((series, change))
        return true
    }

    /// Undoes a batch's changes to the seq windows, newest first.
    private func undo(_ changes: [(series: Int32, change: SeqWindowTable.Change)]) {
        for (series, change) in changes.reversed() { windows.undo(change, of: series) }
    }

    /// Makes a staged batch count: the worker gets it. The queue room (`reserved` readings)
    /// was reserved before; what duplicates freed is given back.
    func commit(_ staged: Staged, reserved: Int) {
        if staged.kept.count < reserved { queue.cancelReservation(reserved - staged.kept.count) }
        if !staged.kept.isEmpty {
            queue.enqueueReserved(JournaledBatch(staged.kept, position: staged.position, acceptedAt: .now, mark: staged.mark))
        }
    }

    /// Undoes a staged batch that another shard's failure made void: its seqs are
    /// forgotten, the record is cut off the journal and nothing of it counts. Returns the
    /// journal's failure to cut, if any.
    func rollBack(_ staged: Staged) -> JournalError? {
        undo(staged.changes)
        guard staged.position != staged.previousPosition else { return nil }
        position = staged.previousPosition
        guard let journal else { return nil }
        do {
            try journal.rollBack(to: staged.previousPosition)
            return nil
        } catch {
            position = journal.position
            return error
        }
    }

    /// Stops the journal for good after a failed sync (see ``JournalError/isFatal``).
    func failJournal(_ error: JournalError) {
        withLock { journal?.fail(error) }
    }

    /// For the interval syncer: a duplicate descriptor of the open segment.
    func journalDescriptor() -> Int32? {
        withLock { journal?.duplicateDescriptor() }
    }

    /// Deletes journal segments a committed checkpoint covers.
    func removeSegments(coveredBy checkpoint: Int64) -> [String] {
        withLock { journal?.removeSegments(coveredBy: checkpoint) ?? [] }
    }

    /// Bytes of this shard's journal still on disk (0 without a journal).
    var journalBytes: Int64 {
        withLock { journal?.retainedBytes ?? 0 }
    }
}
