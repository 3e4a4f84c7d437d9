import Testing
import SensorCore
@testable import SensorPipeline

@Suite struct ShardIngressTests {
    private func reading(_ device: String, seq: UInt64?) -> Reading {
        Reading(device: device, metric: "m", value: 1, timestamp: 1_000_000, seq: seq)
    }

    /// Duplicates within a batch and of earlier batches are dropped; the first occurrence
    /// counts and readings without seq always do.
    @Test func duplicatesAreDroppedAndTheRestKeptInOrder() throws {
        let ingress = ShardIngress(queue: IngestQueue(capacity: 1_000))
        ingress.open(journal: nil, position: 0)
        try ingress.withLock {
            let first = try ingress.stage([reading("a", seq: 1), reading("b", seq: 1), reading("a", seq: 2)])
            #expect(first.duplicates == 0)
            #expect(first.kept.readings.map(\.seq) == [1, 1, 2])
            ingress.commit(first, reserved: 0)
            let second = try ingress.stage([reading("a", seq: 3), reading("a", seq: 2), reading("c", seq: nil), reading("a", seq: 3), reading("b", seq: 2)])
            #expect(second.duplicates == 2)
            #expect(second.kept.readings.map(\.device) == ["a", "c", "b"])
            #expect(second.kept.readings.map(\.seq) == [3, nil, 2])
            ingress.commit(second, reserved: 0)
        }
    }

    /// A batch rolled back (another shard's journal append failed) leaves no trace in the
    /// seq windows: sent again, every reading of it counts.
    @Test func aRolledBackBatchIsForgotten() throws {
        let ingress = ShardIngress(queue: IngestQueue(capacity: 1_000))
        ingress.restore(windows: [SeriesKey(device: "a", metric: "m"): SeqWindow(first: 10, at: 0)])
        ingress.open(journal: nil, position: 0)
        let batch = [reading("a", seq: 11), reading("a", seq: 5_000), reading("b", seq: 1), reading("a", seq: 12), reading("a", seq: 11)]
        try ingress.withLock {
            let staged = try ingress.stage(batch)
            // 12 is more than the width below 5,000, stamped no later: a duplicate, as is 11.
            #expect(staged.kept.readings.map(\.seq) == [11, 5_000, 1])
            #expect(staged.duplicates == 2)
            #expect(ingress.rollBack(staged) == nil)
            let again = try ingress.stage(batch)
            #expect(again.kept.readings.map(\.seq) == [11, 5_000, 1], "the rolled-back seqs count when the batch is sent again")
            #expect(again.duplicates == 2)
            ingress.commit(again, reserved: 0)
            let third = try ingress.stage(batch)
            #expect(third.kept.isEmpty, "once committed, the same batch is all duplicates")
            #expect(third.duplicates == batch.count)
        }
    }

    /// A batch whose journal append fails leaves no trace in the seq windows either: sent
    /// again, its readings are new and go to the journal again (which fails again here).
    @Test func aBatchWhoseAppendFailedIsForgotten() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let ingress = ShardIngress(queue: IngestQueue(capacity: 1_000))
        let journal = try JournalWriter(directory: directory.path, position: 0, segmentBytes: 1 << 20, sync: .never)
        ingress.open(journal: journal, position: 0)
        let batch = [reading("a", seq: 1), reading("a", seq: 2), reading("b", seq: 7)]
        journal.fail(JournalError(operation: "write", path: directory.path, reason: "test"))
        ingress.withLock {
            #expect(throws: JournalError.self) { _ = try ingress.stage(batch) }
            #expect(throws: JournalError.self, "without the undo, the batch would now be all duplicates and not reach the journal") {
                _ = try ingress.stage(batch)
            }
        }
    }

    /// A flush stores the windows changed since the last one: those of series that sent a
    /// new seq, or whose seqs a replay recorded; not those of series whose readings were
    /// all duplicates, nor any twice.
    @Test func aFlushTakesTheWindowsChangedSinceTheLastOne() throws {
        let ingress = ShardIngress(queue: IngestQueue(capacity: 1_000))
        ingress.restore(windows: [SeriesKey(device: "stored", metric: "m"): SeqWindow(first: 1, at: 0)])
        ingress.recordReplayed([reading("replayed", seq: 4), reading("plain", seq: nil)])
        ingress.open(journal: nil, position: 0)
        #expect(ingress.takeChangedWindows().series.map(\.device) == ["replayed"])
        #expect(ingress.takeChangedWindows().isEmpty)
        try ingress.withLock {
            ingress.commit(try ingress.stage([reading("live", seq: 1), reading("stored", seq: 2), reading("plain", seq: nil)]), reserved: 0)
        }
        let changed = ingress.takeChangedWindows()
        #expect(Set(changed.series.map(\.device)) == ["live", "stored"])
        try ingress.withLock {
            let staged = try ingress.stage([reading("live", seq: 1), reading("stored", seq: 2)])
            #expect(staged.kept.isEmpty)
            ingress.commit(staged, reserved: 0)
        }
        #expect(ingress.takeChangedWindows().isEmpty, "duplicates change no window")
    }
}
