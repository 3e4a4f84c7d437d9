import Testing
import SensorCore
@testable import SensorPipeline

/// A shard's seq windows by series number, against a dictionary of windows judged apart:
/// admissions, roll-backs of whole batches (newest change first), replays and takes.
@Suite struct SeqWindowTableTests {
    @Test func windowsByNumberJudgeAsWindowsKeptApartAndRollBacksPutThemBack() {
        var generator = SeededGenerator(seed: 11)
        var table = SeqWindowTable()
        var truth: [Int32: SeqWindow] = [:]
        var changedSinceTake: Set<Int32> = []
        for round in 0..<400 {
            // A batch of readings of a few series (numbers past a page of windows).
            let batch = (0..<Int.random(in: 1...12, using: &generator)).map { _ in
                (number: Int32.random(in: 0..<600, using: &generator), seq: UInt64.random(in: 1...40, using: &generator),
                 timestamp: Int64.random(in: 0...1_000, using: &generator))
            }
            var changes: [(Int32, SeqWindowTable.Change)] = []
            var proposed = truth
            for (number, seq, timestamp) in batch {
                let expectedNew: Bool
                if var window = proposed[number] {
                    expectedNew = window.admit(seq, at: timestamp)
                    proposed[number] = window
                } else {
                    expectedNew = true
                    proposed[number] = SeqWindow(first: seq, at: timestamp)
                }
                let change = table.admit(seq, at: timestamp, of: number)
                #expect((change != nil) == expectedNew, "round \(round): seq \(seq) of \(number)")
                if let change { changes.append((number, change)) }
            }
            if round % 3 == 0 {
                // Rolled back: the table is as before the batch.
                for (number, change) in changes.reversed() { table.undo(change, of: number) }
            } else {
                truth = proposed
                changedSinceTake.formUnion(changes.map(\.0))
            }
            if round % 50 == 49 {
                // A replay records a seq without judging it.
                let number = Int32.random(in: 0..<600, using: &generator)
                table.record(41, at: 2_000, of: number)
                if var window = truth[number] { window.admit(41, at: 2_000); truth[number] = window } else { truth[number] = SeqWindow(first: 41, at: 2_000) }
                changedSinceTake.insert(number)
            }
            if round % 20 == 19 {
                var taken: [Int32: SeqWindow] = [:]
                table.takeChanged { window, number in
                    #expect(taken[number] == nil, "\(number) taken twice")
                    taken[number] = window
                }
                // A window changed and rolled back is taken unchanged: harmless.
                #expect(Set(taken.keys).isSuperset(of: changedSinceTake))
                for (number, window) in taken { #expect(window == truth[number], "\(number)") }
                changedSinceTake = []
                #expect(table.changedCount == 0)
            }
        }
        var all: [Int32: SeqWindow] = [:]
        var restored = SeqWindowTable()
        for (number, window) in truth { restored.restore(window, of: number) }
        #expect(restored.changedCount == 0, "restored windows are stored already")
        for (number, window) in truth {
            // Every window is there: the seq it holds is a duplicate in both.
            #expect(table.admit(window.highest, at: window.latestTimestamp, of: number) == nil)
            #expect(restored.admit(window.highest, at: window.latestTimestamp, of: number) == nil)
            all[number] = window
        }
        #expect(all.count > 300, "the test covers \(all.count) series")
    }
}
