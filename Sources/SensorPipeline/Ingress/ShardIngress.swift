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
        var kept: [Reading]
        var duplicates: Int
        /// The part of an identified batch these readings are, if any.
        var mark: BatchMark?
        /// What the batch changed in the seq windows, in order: what ``rollBack(_:)`` undoes.
        fileprivate var changes: [(series: SeriesKey, change: WindowChange)]
        fileprivate var previousPosition: Int64
        var position: Int64
    }

    /// One admission's change to a series' seq window: what to put back.
    fileprivate enum WindowChange {
        case created
        case replaced(SeqWindow)
    }

    let queue: IngestQueue
    private let mutex = NIOLock()
    /// Seq windows of every series that sent a seq: what is a duplicate at submit time,
    /// and what each flush stores (``takeChangedWindows()``).
    private var windows: [SeriesKey: SeqWindowBox] = [:]
    private var journal: JournalWriter?
    /// Position after the last staged batch (the journal's, or a counter without one).
    private var position: Int64 = 0

    init(queue: IngestQueue) {
        self.queue = queue
    }

    /// Sets the seq windows committed with the last checkpoint (recovery, before the replay).
    func restore(windows: [SeriesKey: SeqWindow]) {
        withLock { self.windows = windows.mapValues { SeqWindowBox($0) } }
    }

    /// Records the seqs of readings replayed from the journal in their windows (recovery).
    ///
    /// Every replayed reading was new when it was journaled, so none is judged here. The
    /// stored windows may already hold some of them (``takeChangedWindows()`` stores
    /// windows at or past the checkpoint), and a window recording a seq it holds stays as
    /// it is: the replay ends with the windows the last run had.
    func recordReplayed(_ readings: [Reading]) {
        withLock {
            for reading in readings {
                guard let seq = reading.seq else { continue }
                if let box = windows[reading.series] {
                    box.window.admit(seq, at: reading.timestamp)
                    box.changed = true
                } else {
                    windows[reading.series] = SeqWindowBox(SeqWindow(first: seq, at: reading.timestamp), changed: true)
                }
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

    /// The windows changed since the last call, for a flush to store, and no longer
    /// marked changed.
    ///
    /// Taken after the flush drained the aggregator, so they are at or past the journal
    /// position its buckets cover: they may hold seqs of readings staged since, which a
    /// replay after a crash records again without a change (``recordReplayed(_:)``).
    /// Without a journal, such readings die with a crash before their flush, as that mode
    /// warns, and their seqs stay counted. One set of windows per series, kept by ingress
    /// alone: a second set in the aggregator, as of the journal position it applied, cost
    /// a hash and an admit per reading with a seq, and a window per series.
    func takeChangedWindows() -> EncodedSeqWindows {
        withLock {
            var changed = EncodedSeqWindows()
            for (series, box) in windows where box.changed {
                changed.append(box.window, of: series)
                box.changed = false
            }
            return changed
        }
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
    /// The seq windows are updated in place (one hash of the series per reading) and what
    /// changed is kept for a roll-back, which is rare. Without duplicates the batch is
    /// kept as it came, without a copy.
    func stage(_ readings: [Reading], mark: BatchMark? = nil) throws(JournalError) -> Staged {
        var staged = Staged(kept: readings, duplicates: 0, mark: mark, changes: [], previousPosition: position, position: position)
        if readings.contains(where: { $0.seq != nil }) {
            staged.changes.reserveCapacity(readings.count)
            for (index, reading) in readings.enumerated() {
                guard let seq = reading.seq else {
                    if staged.duplicates > 0 { staged.kept.append(reading) }
                    continue
                }
                if admit(seq, of: reading, changes: &staged.changes) {
                    if staged.duplicates > 0 { staged.kept.append(reading) }
                } else {
                    if staged.duplicates == 0 {
                        staged.kept = Array(readings[..<index])
                        staged.kept.reserveCapacity(readings.count - 1)
                    }
                    staged.duplicates += 1
                }
            }
        }
        guard !staged.kept.isEmpty else { return staged }
        if let journal {
            do {
                staged.position = try journal.append(staged.kept, mark: mark)
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
    private func admit(_ seq: UInt64, of reading: Reading, changes: inout [(series: SeriesKey, change: WindowChange)]) -> Bool {
        let key = reading.series
        guard let box = windows[key] else {
            windows[key] = SeqWindowBox(SeqWindow(first: seq, at: reading.timestamp), changed: true)
            changes.append((key, .created))
            return true
        }
        let before = box.window
        guard box.window.admit(seq, at: reading.timestamp) else { return false }
        // Left marked after a roll-back: storing an unchanged window is harmless.
        box.changed = true
        changes.append((key, .replaced(before)))
        return true
    }

    /// Undoes a batch's changes to the seq windows, newest first.
    private func undo(_ changes: [(series: SeriesKey, change: WindowChange)]) {
        for (key, change) in changes.reversed() {
            switch change {
            case .created: windows[key] = nil
            case .replaced(let window): windows[key]?.window = window
            }
        }
    }

    /// Makes a staged batch count: the worker gets it. The queue room (`reserved` readings)
    /// was reserved before; what duplicates freed is given back.
    func commit(_ staged: Staged, reserved: Int) {
        if staged.kept.count < reserved { queue.cancelReservation(reserved - staged.kept.count) }
        if !staged.kept.isEmpty {
            queue.enqueueReserved(JournaledBatch(readings: staged.kept, position: staged.position, acceptedAt: .now, mark: staged.mark))
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
