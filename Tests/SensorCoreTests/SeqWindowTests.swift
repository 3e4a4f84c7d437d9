import Testing
import SensorCore

/// The documented rule, kept the naive way. Per sequence: every admitted seq in a set, the
/// highest, and the event times of its first and latest readings. A seq is new when it is
/// above the highest, or at most `width` below it and never admitted; one more than
/// `width` below the highest is a duplicate unless its event time is later than the latest
/// counted one, which starts a new sequence at it. A reading stamped before the current
/// sequence began is judged by the previous one (never restarting it), and one stamped
/// before both is a duplicate.
private struct ModelWindow {
    private struct Sequence {
        var highest: UInt64
        var start: Int64
        var latest: Int64
        var admitted: Set<UInt64>
        let width = UInt64(SeqWindow.width)

        func isNew(_ seq: UInt64, at timestamp: Int64, mayRestart: Bool) -> Bool {
            if seq > highest { return true }
            if highest - seq > width { return mayRestart && timestamp > latest }
            return !admitted.contains(seq)
        }

        mutating func record(_ seq: UInt64, at timestamp: Int64) {
            admitted.insert(seq)
            latest = max(latest, timestamp)
            if seq > highest {
                highest = seq
                // Forget what the rule no longer looks at, so the set stays small.
                if admitted.count > 4 * Int(width) {
                    admitted = admitted.filter { highest - $0 <= width }
                }
            }
        }
    }

    private var current: Sequence
    private var previous: Sequence?

    init(first seq: UInt64, at timestamp: Int64 = 0) {
        current = Sequence(highest: seq, start: timestamp, latest: timestamp, admitted: [seq])
    }

    var highest: UInt64 { current.highest }
    var latest: Int64 { current.latest }

    func isNew(_ seq: UInt64, at timestamp: Int64 = 0) -> Bool {
        guard timestamp < current.start, let previous else { return current.isNew(seq, at: timestamp, mayRestart: true) }
        return timestamp >= previous.start && previous.isNew(seq, at: timestamp, mayRestart: false)
    }

    mutating func admit(_ seq: UInt64, at timestamp: Int64 = 0) -> Bool {
        guard isNew(seq, at: timestamp) else { return false }
        if timestamp < current.start, previous != nil {
            previous?.record(seq, at: timestamp)
        } else if seq < current.highest, current.highest - seq > current.width {
            previous = current
            current = Sequence(highest: seq, start: timestamp, latest: timestamp, admitted: [seq])
        } else {
            current.record(seq, at: timestamp)
        }
        return true
    }
}

/// Seqs from `highest - below` through `highest + above` that exist in UInt64.
private func around(_ highest: UInt64, below: UInt64, above: UInt64 = 2) -> ClosedRange<UInt64> {
    let low = highest >= below ? highest - below : 0
    let high = highest <= UInt64.max - above ? highest + above : UInt64.max
    return low...high
}

/// Compares `isNew` of the window and the model for every seq in `range`.
private func expectSameIsNew(
    _ window: SeqWindow, _ model: ModelWindow, over range: ClosedRange<UInt64>, _ context: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    var mismatches: [String] = []
    let at = model.latest
    for seq in range where window.isNew(seq, at: at) != model.isNew(seq, at: at) {
        mismatches.append("seq \(seq) (highest - \(Int64(bitPattern: model.highest &- seq))): window says new=\(window.isNew(seq, at: at)), rule says new=\(model.isNew(seq, at: at))")
        if mismatches.count == 5 { break }
    }
    #expect(mismatches.isEmpty, "\(context): \(mismatches.joined(separator: "; "))", sourceLocation: sourceLocation)
}

@Suite struct SeqWindowTests {
    static let boundaryShifts: [UInt64] = [1, 63, 64, 65, 1023, 1024, 1025]

    @Test func firstSeqIsCountedAndNothingElseIs() {
        let window = SeqWindow(first: 5_000, at: 0)
        #expect(window.highest == 5_000)
        #expect(!window.isNew(5_000, at: 0), "the first seq itself is a duplicate")
        #expect(window.isNew(5_001, at: 0))
        #expect(window.isNew(UInt64.max, at: 0))
        for below in 1...UInt64(SeqWindow.width) {
            #expect(window.isNew(5_000 - below, at: 0), "seq \(5_000 - below) (\(below) below the highest) was never counted")
        }
        #expect(!window.isNew(5_000 - UInt64(SeqWindow.width) - 1, at: 0), "more than width below the highest is taken as a duplicate")
        #expect(!window.isNew(0, at: 0))
    }

    @Test func admitRefusesARepeatAndChangesNothing() {
        var window = SeqWindow(first: 10, at: 0)
        let first = window.admit(12, at: 0)
        #expect(first)
        let before = window
        let repeats = [window.admit(12, at: 0), window.admit(10, at: 0)]
        #expect(repeats == [false, false])
        #expect(window == before, "a refused admit must leave the window as it was")
        let gap = [window.admit(11, at: 0), window.admit(11, at: 0)]
        #expect(gap == [true, false])
        #expect(window.highest == 12)
    }

    /// Every seq remembered before a forward jump of `shift` is still a duplicate after it
    /// as long as it lies within the window, and every gap in the window is still new.
    @Test(arguments: boundaryShifts)
    func rememberedSeqsSurviveAForwardJump(shift: UInt64) {
        let base: UInt64 = 1 << 40
        var window = SeqWindow(first: base, at: 0)
        var model = ModelWindow(first: base)
        // A pattern with gaps below the highest: every third seq of the last 1100, plus
        // both ends of each 64-bit word.
        for seq in (base - 1_100)...base where seq % 3 == 0 || seq % 64 == 0 || seq % 64 == 63 {
            let (got, expected) = (window.admit(seq, at: 0), model.admit(seq))
            #expect(got == expected, "admit(\(seq)) before the jump")
        }
        expectSameIsNew(window, model, over: around(base, below: 1_200), "before a jump of \(shift)")
        let (jumped, modelJumped) = (window.admit(base + shift, at: 0), model.admit(base + shift))
        #expect(jumped && modelJumped)
        #expect(window.highest == base + shift)
        expectSameIsNew(window, model, over: around(base + shift, below: 1_200 + shift), "after a jump of \(shift)")
    }

    /// The boundary itself, on a window with nothing but two seqs in it.
    @Test(arguments: boundaryShifts)
    func oldHighestIsADuplicateAfterAJumpAndItsNeighboursFollowTheRule(shift: UInt64) {
        let base: UInt64 = 100_000
        var window = SeqWindow(first: base, at: 0)
        let jumped = window.admit(base + shift, at: 0)
        #expect(jumped)
        #expect(!window.isNew(base, at: 0), "the old highest was counted: a duplicate whether remembered or too old")
        // One below the old highest: never counted. New if it is at most width below.
        let offset = shift + 1
        #expect(window.isNew(base - 1, at: 0) == (offset <= UInt64(SeqWindow.width)),
                "seq \(base - 1) is \(offset) below the highest \(base + shift); width is \(SeqWindow.width)")
        // One above the old highest (when not the new highest): never counted, within the window.
        if shift > 1 { #expect(window.isNew(base + 1, at: 0)) }
    }

    @Test func exactlyWidthBelowTheHighestIsStillRemembered() {
        let width = UInt64(SeqWindow.width)
        var window = SeqWindow(first: 1, at: 0)
        let jumped = window.admit(1 + width, at: 0)
        #expect(jumped, "jump of exactly width")
        #expect(!window.isNew(1, at: 0), "seq 1 was counted and lies exactly width below the highest")
        var fresh = SeqWindow(first: 10_000, at: 0)
        let far = fresh.admit(10_000 + 2 * width, at: 0)
        #expect(far)
        #expect(fresh.isNew(10_000 + width, at: 0), "never counted, exactly width below the highest: the rule says new")
        let edge = fresh.admit(10_000 + width, at: 0)
        #expect(edge, "never counted, exactly width below the highest: the rule says it is admitted")
        #expect(!fresh.isNew(10_000 + width, at: 0), "now counted")
        #expect(!fresh.isNew(10_000 + width - 1, at: 0), "width + 1 below the highest is taken as a duplicate")
    }

    @Test func hugeJumpsForgetEverythingBelow() {
        var window = SeqWindow(first: 3, at: 0)
        var model = ModelWindow(first: 3)
        for seq: UInt64 in [4, 6, 1 << 20, (1 << 20) - 5, 1 << 62, (1 << 62) - 1024, UInt64.max - 1, UInt64.max - 1025, UInt64.max] {
            let (got, expected) = (window.admit(seq, at: 0), model.admit(seq))
            #expect(got == expected, "admit(\(seq))")
            #expect(window.highest == model.highest)
            expectSameIsNew(window, model, over: around(model.highest, below: 1_100), "after admitting \(seq)")
        }
        #expect(!window.isNew(UInt64.max, at: 0))
        let refused = !window.admit(0, at: 0)
        #expect(refused)
    }

    /// Many random walks, each step picked to hit the interesting distances, with event
    /// times that mostly move on and sometimes repeat an earlier one (a redelivery).
    @Test func matchesTheRuleOverRandomSequences() {
        var generator = SeededGenerator(seed: 0x5E9_1D0)
        let width = UInt64(SeqWindow.width)
        var admittedTotal = 0, refusedTotal = 0, restarts = 0
        for walk in 0..<300 {
            let start: UInt64 = switch walk % 4 {
            case 0: 0
            case 1: UInt64.random(in: 0...5_000, using: &generator)
            case 2: UInt64.random(in: 0...(UInt64.max / 2), using: &generator)
            default: UInt64.max - UInt64.random(in: 0...(1 << 24), using: &generator)
            }
            var clock: Int64 = 1_000
            var window = SeqWindow(first: start, at: clock)
            var model = ModelWindow(first: start, at: clock)
            var recent: [(seq: UInt64, at: Int64)] = [(start, clock)]
            for step in 0..<400 {
                let highest = model.highest
                var seq: UInt64
                // Most readings are stamped later than any before; a few repeat an old time.
                clock += Int64.random(in: 0...3, using: &generator)
                var at = Bool.random(using: &generator) || step % 3 != 0 ? clock : Int64.random(in: 0...clock, using: &generator)
                switch UInt64.random(in: 0..<11, using: &generator) {
                case 0, 1: // forward by one of the boundary distances
                    let shift = Self.boundaryShifts.randomElement(using: &generator)!
                    seq = highest <= UInt64.max - shift ? highest + shift : UInt64.max
                case 2: // forward by a small amount
                    let shift = UInt64.random(in: 1...5, using: &generator)
                    seq = highest <= UInt64.max - shift ? highest + shift : UInt64.max
                case 3: // a huge jump, rarely
                    if UInt64.random(in: 0..<20, using: &generator) == 0 {
                        let shift = UInt64.random(in: width...(1 << 50), using: &generator)
                        seq = highest <= UInt64.max - shift ? highest + shift : UInt64.max
                    } else {
                        seq = highest
                    }
                case 4, 5, 6: // somewhere inside or just outside the window
                    let below = UInt64.random(in: 0...(width + 3), using: &generator)
                    seq = highest >= below ? highest - below : 0
                case 7: // right on the edge
                    let below = [width - 1, width, width + 1].randomElement(using: &generator)!
                    seq = highest >= below ? highest - below : 0
                case 8: // far below: a device that restarted (later time) or a very old redelivery
                    let below = UInt64.random(in: (width + 1)...(width * 4), using: &generator)
                    seq = highest >= below ? highest - below : 0
                default: // a repeat of something sent lately, with its own time
                    (seq, at) = recent.randomElement(using: &generator)!
                }
                let expected = model.admit(seq, at: at)
                let restart = expected && seq < highest && highest - seq > width && model.highest == seq
                let got = window.admit(seq, at: at)
                if got != expected {
                    Issue.record("walk \(walk) step \(step): admit(\(seq), at: \(at)) with highest \(highest) returned \(got), the rule says \(expected)")
                    break
                }
                if window.highest != model.highest || window.latestTimestamp != model.latest {
                    Issue.record("walk \(walk) step \(step): highest \(window.highest) latest \(window.latestTimestamp), the rule says \(model.highest), \(model.latest)")
                    break
                }
                if expected { admittedTotal += 1 } else { refusedTotal += 1 }
                if restart { restarts += 1 }
                recent.append((seq, at))
                if recent.count > 64 { recent.removeFirst() }
                if step % 50 == 49 {
                    expectSameIsNew(window, model, over: around(model.highest, below: width + 8), "walk \(walk) step \(step)")
                }
            }
            expectSameIsNew(window, model, over: around(model.highest, below: width + 8), "walk \(walk) end")
        }
        // The walks must exercise every outcome heavily, or they prove little.
        #expect(admittedTotal > 20_000 && refusedTotal > 20_000 && restarts > 1_000,
                "admitted \(admittedTotal), refused \(refusedTotal), restarts \(restarts)")
    }

    /// A flush stores ingress's windows, which may be ahead of its checkpoint: after a
    /// crash, the replay records again seqs the stored window holds (those journaled
    /// between the checkpoint and the flush), then the rest. Recording a seq the window
    /// holds must change nothing, so the replay ends where the last run did: over random
    /// walks with redeliveries, late seqs and restarts, a window stored at any point,
    /// through its encoding, and replayed from any earlier point equals the window of the
    /// whole walk.
    @Test func replayingSeqsAWindowHoldsChangesNothing() throws {
        var generator = SeededGenerator(seed: 0x8E_9A1)
        let width = UInt64(SeqWindow.width)
        var restarts = 0
        for walk in 0..<200 {
            var clock: Int64 = 1_000
            var accepted: [(seq: UInt64, at: Int64)] = [(UInt64.random(in: 0...(1 << 30), using: &generator), clock)]
            var window = SeqWindow(first: accepted[0].seq, at: clock)
            for _ in 0..<600 {
                clock += Int64.random(in: 0...2, using: &generator)
                let highest = window.highest
                var at = clock
                let seq: UInt64
                switch UInt64.random(in: 0..<10, using: &generator) {
                case 0, 1, 2, 3: seq = highest + 1
                case 4: seq = highest + UInt64.random(in: 2...(width + 2), using: &generator)
                case 5, 6: seq = highest - Swift.min(highest, UInt64.random(in: 1...(width + 2), using: &generator))
                case 7: // a restart (stamped later) or an old redelivery (stamped earlier)
                    seq = UInt64.random(in: 0...3, using: &generator)
                    if Bool.random(using: &generator) { at = Int64.random(in: 0...clock, using: &generator) }
                case 8: (seq, at) = accepted.randomElement(using: &generator)!
                default: seq = highest
                }
                let before = window.highest
                if window.admit(seq, at: at) {
                    if seq < before, before - seq > width { restarts += 1 }
                    accepted.append((seq, at))
                }
            }
            let storedAt = Int.random(in: 1...accepted.count, using: &generator)
            let checkpoint = Int.random(in: 0...storedAt, using: &generator)
            var stored = SeqWindow(first: accepted[0].seq, at: accepted[0].at)
            for (seq, at) in accepted[1..<storedAt] { stored.admit(seq, at: at) }
            var replayed = try #require(SeqWindow(encoded: stored.encoded))
            for (seq, at) in accepted[checkpoint...] { replayed.admit(seq, at: at) }
            #expect(replayed == window && replayed.encoded == window.encoded, "walk \(walk): stored after \(storedAt) readings, replayed from \(checkpoint)")
        }
        #expect(restarts > 50, "the walks restarted \(restarts) times")
    }

    /// A device that reboots and starts again at 1: its new sequence counts, every seq of
    /// it, and redeliveries from before the reboot are still duplicates, also those whose
    /// seq is above the new sequence's highest.
    @Test func aRestartedSequenceCountsAndOldRedeliveriesStayDuplicates() {
        var window = SeqWindow(first: 1, at: 10)
        for seq in 2...5_000 as ClosedRange<UInt64> { window.admit(seq, at: 10 + Int64(seq)) }
        #expect(window.highest == 5_000 && window.latestTimestamp == 5_010)
        // The reboot: seq 1 again, stamped after everything counted.
        let r1 = window.admit(1, at: 6_000)
        #expect(r1, "a restarted sequence counts")
        #expect(window.highest == 1)
        for seq in 2...3 as ClosedRange<UInt64> {
            let counted = window.admit(seq, at: 6_000 + Int64(seq))
            #expect(counted, "seq \(seq) of the new sequence")
        }
        let r2 = window.admit(2, at: 6_002)
        #expect(!r2, "a repeat within the new sequence is a duplicate")
        let r3 = window.admit(4_990, at: 5_000)
        #expect(!r3, "a redelivery from before the reboot, above the new highest")
        let r4 = window.admit(3, at: 13)
        #expect(!r4, "a redelivery from before the reboot, inside the new window")
        let r5 = window.admit(1, at: 5)
        #expect(!r5, "older than both sequences: taken as a duplicate")
        let r6 = window.admit(4, at: 6_004)
        #expect(r6, "the new sequence goes on")

        // A reading of the old sequence that was never counted still counts after the reboot.
        var gapped = SeqWindow(first: 100, at: 100)
        gapped.admit(102, at: 102)
        let r7 = gapped.admit(1, at: 200)
        #expect(r7, "restart")
        let r8 = gapped.admit(101, at: 101)
        #expect(r8, "never counted in the old sequence")
        let r9 = gapped.admit(101, at: 101)
        #expect(!r9)

        // A redelivery far below the highest with its old time stays a duplicate; the same
        // seq with a later time is another restart.
        var later = SeqWindow(first: 3_000, at: 7_000)
        let r10 = later.admit(1_000, at: 6_999)
        #expect(!r10, "an old reading, old time: duplicate")
        let r11 = later.admit(1_000, at: 7_001)
        #expect(r11, "the same seq with a later time: the device restarted")
    }

    /// seq 2^64 - 1 once must not mute the device: its next readings are far below, and later.
    @Test func anAbsurdSeqCannotMuteADevice() {
        var window = SeqWindow(first: 7, at: 100)
        let r12 = window.admit(UInt64.max, at: 200)
        #expect(r12)
        let r13 = window.admit(8, at: 300)
        #expect(r13, "later than the absurd one: a new sequence")
        let r14 = window.admit(9, at: 301)
        #expect(r14)
        let r15 = window.admit(UInt64.max, at: 200)
        #expect(!r15, "the absurd reading redelivered is still a duplicate")
    }

    /// A device counting up in order (the usual case) stores its window as a run: 29
    /// bytes, not the 155 of a bitmap, and it decodes to the same window.
    @Test func anInOrderWindowEncodesAsARun() throws {
        var window = SeqWindow(first: 1, at: 1)
        #expect(window.encoded.count == 29 && window.encoded.count == SeqWindow.leastEncodedCount, "a first seq alone")
        for seq in UInt64(2)...3_000 {
            window.admit(seq, at: Int64(seq))
            if seq == 10 || seq == 1_025 || seq == 3_000 {
                let decoded = try #require(SeqWindow(encoded: window.encoded))
                #expect(window.encoded.count == 29 && decoded == window && decoded.encoded == window.encoded, "after \(seq)")
                for probe in around(seq, below: UInt64(SeqWindow.width) + 4) {
                    #expect(decoded.isNew(probe, at: 0) == window.isNew(probe, at: 0), "seq \(probe) after \(seq)")
                }
            }
        }
        // A seq out of order leaves a gap: the bitmap, and it decodes alike.
        window.admit(3_005, at: 3_005)
        let gapped = try #require(SeqWindow(encoded: window.encoded))
        #expect(window.encoded.count == 155 && gapped == window)
        #expect(gapped.isNew(3_002, at: 0) && !gapped.isNew(3_000, at: 0) && !gapped.isNew(2_000, at: 0))
    }

    /// A window is a value: a copy kept for a roll-back (as ingress keeps one per staged
    /// reading) does not see seqs the window counts after it, in or out of order, and
    /// neither sees the copy's. Ingress holds one window per series: 48 bytes.
    @Test func aCopyKeepsItsSeqsWhateverTheOtherCounts() {
        #expect(MemoryLayout<SeqWindow>.size <= 48)
        var window = SeqWindow(first: 100, at: 1)
        window.admit(98, at: 2)  // out of order: a bitmap
        let kept = window
        window.admit(97, at: 3)
        window.admit(101, at: 4)
        window.admit(105, at: 5)
        #expect(!window.isNew(97, at: 0) && !window.isNew(105, at: 0) && window.isNew(99, at: 0))
        #expect(kept.isNew(97, at: 0) && kept.isNew(105, at: 0) && !kept.isNew(98, at: 0) && kept.highest == 100)
        var copy = kept
        copy.admit(96, at: 6)
        #expect(!copy.isNew(96, at: 0) && kept.isNew(96, at: 0) && window.isNew(96, at: 0))
        // 1,024 seqs in order after the gap: the run spans the window and drops the bitmap,
        // and the window answers as before.
        for seq in UInt64(106)...1_200 { window.admit(seq, at: Int64(seq)) }
        #expect(!window.isNew(1_199, at: 0) && !window.isNew(1_200 - 1_024, at: 0) && window.isNew(1_200 - 1_026, at: 0) == false)
        #expect(SeqWindow(encoded: window.encoded) == window && window.encoded.count == 29)
    }

    /// Version 2 windows (every word written: databases of daemons before version 3)
    /// decode as the same window.
    @Test func versionTwoWindowsStillDecode() throws {
        // Seqs 1...10 stamped 1...10, then 15 stamped 15: 10 down to 1 are bits 4...13
        // below the highest (bit i is seq 15 - 1 - i).
        var bytes: [UInt8] = [2]
        let words = [UInt64((1 << 10) - 1) << 4] + Array(repeating: UInt64(0), count: SeqWindow.width / 64 - 1)
        for word in [UInt64(15), 1, 15] + words {
            withUnsafeBytes(of: word.littleEndian) { bytes.append(contentsOf: $0) }
        }
        bytes.append(0)
        var window = SeqWindow(first: 1, at: 1)
        for seq in UInt64(2)...10 { window.admit(seq, at: Int64(seq)) }
        window.admit(15, at: 15)
        let decoded = try #require(SeqWindow(encoded: bytes))
        #expect(decoded == window)
        for probe in around(15, below: UInt64(SeqWindow.width) + 4) {
            #expect(decoded.isNew(probe, at: 0) == window.isNew(probe, at: 0), "seq \(probe)")
        }
        #expect(decoded.encoded.first == 3, "re-encoded as version 3")
    }

    /// Version 1 windows (schema v2 databases) decode with the time they are given.
    @Test func versionOneWindowsDecodeWithTheGivenTime() {
        var bytes: [UInt8] = [1]
        for word in [UInt64(5_000)] + Array(repeating: UInt64(0), count: SeqWindow.width / 64) {
            withUnsafeBytes(of: word.littleEndian) { bytes.append(contentsOf: $0) }
        }
        bytes[9] = 0b101  // seqs 4_999 and 4_997 counted
        let window = SeqWindow(encoded: bytes, latestTimestamp: 42)
        #expect(window?.highest == 5_000 && window?.latestTimestamp == 42)
        #expect(window?.isNew(1, at: 43) == true, "far below and later: a restart")
        #expect(window?.isNew(1, at: 42) == false)
        #expect(window?.isNew(5_000, at: 43) == false)
        #expect(window?.isNew(4_999, at: 43) == false && window?.isNew(4_997, at: 43) == false)
        #expect(window?.isNew(4_998, at: 43) == true)
        #expect(window.map { SeqWindow(encoded: $0.encoded) } == window, "re-encoded as version 3")
    }

    /// Repeats inside one batch, as ShardIngress feeds them: the first occurrence counts.
    @Test func repeatsWithinABatchCountOnce() {
        var window = SeqWindow(first: 100, at: 0)
        let batch: [UInt64] = [101, 102, 101, 103, 102, 100, 104, 104, 99]
        let results = batch.map { window.admit($0, at: 0) }
        #expect(results == [true, true, false, true, false, false, true, false, true])
        #expect(window.highest == 104)
    }

    // MARK: - Encoding

    /// A device counting up one by one (the window keeps such a run apart from its
    /// bitmap), for runs shorter and longer than the window, broken now and then by a
    /// redelivery, a gap or a late seq: every answer is the rule's, and so are those of the
    /// window decoded from its encoding (which folds the run into the bitmap).
    @Test func runsOfConsecutiveSeqsMatchTheRule() {
        var generator = SeededGenerator(seed: 0x2E9_5)
        let width = UInt64(SeqWindow.width)
        for walk in 0..<60 {
            var clock: Int64 = 1_000
            let start = walk % 3 == 0 ? 0 : UInt64.random(in: 0...(1 << 40), using: &generator)
            var window = SeqWindow(first: start, at: clock)
            var model = ModelWindow(first: start, at: clock)
            for step in 0..<3_000 {
                clock += 1
                let highest = model.highest
                // Walks of the third kind count up without a break for 1,200 readings, longer
                // than the window, then take one late seq.
                let consecutive: UInt64 = [97, 80, 100][walk % 3]
                let roll = walk % 3 == 2 && step % 1_200 == 1_199 ? consecutive : UInt64.random(in: 0..<100, using: &generator)
                let seq: UInt64
                if roll < consecutive {
                    seq = highest + 1
                } else if roll < consecutive + (100 - consecutive) / 2 || consecutive == 100 {
                    // Inside the window or just past it: a late seq or a redelivery.
                    seq = highest - Swift.min(highest, UInt64.random(in: 1...(width + 2), using: &generator))
                } else if roll < 99 {
                    seq = highest + UInt64.random(in: 2...70, using: &generator)
                } else {
                    seq = highest
                }
                let expected = model.admit(seq, at: clock)
                let got = window.admit(seq, at: clock)
                if got != expected || window.highest != model.highest {
                    Issue.record("walk \(walk) step \(step): admit(\(seq)) with highest \(highest) returned \(got), the rule says \(expected)")
                    break
                }
                if step % 500 == 499 {
                    expectSameIsNew(window, model, over: around(model.highest, below: width + 8), "walk \(walk) step \(step)")
                    guard let decoded = SeqWindow(encoded: window.encoded) else {
                        Issue.record("walk \(walk) step \(step): its own encoding did not decode")
                        break
                    }
                    #expect(decoded == window && decoded.encoded == window.encoded, "walk \(walk) step \(step): the encoding does not round-trip")
                    expectSameIsNew(decoded, model, over: around(model.highest, below: width + 8), "walk \(walk) step \(step), decoded")
                }
            }
            expectSameIsNew(window, model, over: around(model.highest, below: width + 8), "walk \(walk) end")
        }
    }

    @Test func encodingRoundTripsExactly() {
        var generator = SeededGenerator(seed: 137)
        for trial in 0..<200 {
            let start = UInt64.random(in: 0...UInt64.max, using: &generator)
            var window = SeqWindow(first: start, at: 0)
            for _ in 0..<Int.random(in: 0..<300, using: &generator) {
                let delta = UInt64.random(in: 0...1_100, using: &generator)
                let seq = Bool.random(using: &generator)
                    ? (window.highest <= UInt64.max - delta ? window.highest + delta : UInt64.max)
                    : (window.highest >= delta ? window.highest - delta : 0)
                window.admit(seq, at: Int64.random(in: -5...1_000, using: &generator))
            }
            let bytes = window.encoded
            // Version, a sequence of 27 (a run) or 153 (a bitmap) bytes, a flag, perhaps a previous one.
            #expect([29, 155, 56, 182, 308].contains(bytes.count), "trial \(trial): encoded size \(bytes.count)")
            #expect(bytes.count >= SeqWindow.leastEncodedCount, "trial \(trial): fewer bytes than the least a window takes")
            #expect(bytes.first == 3, "trial \(trial): version byte \(String(describing: bytes.first))")
            // The highest is little-endian right after the version byte.
            let highest = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[1 + $1]) << (8 * UInt64($1)) }
            #expect(highest == window.highest, "trial \(trial): encoded highest \(highest) vs \(window.highest)")
            guard let decoded = SeqWindow(encoded: bytes) else {
                Issue.record("trial \(trial): its own encoding did not decode")
                continue
            }
            #expect(decoded == window, "trial \(trial): decoded window differs")
            #expect(decoded.encoded == bytes)
            var mismatches = 0
            for seq in around(window.highest, below: UInt64(SeqWindow.width) + 4) where decoded.isNew(seq, at: 0) != window.isNew(seq, at: 0) {
                mismatches += 1
            }
            #expect(mismatches == 0, "trial \(trial): decoded window answers isNew differently for \(mismatches) seqs")
        }
    }

    @Test func decodingRefusesOtherVersionsLengthsAndGarbage() {
        let valid = SeqWindow(first: 42, at: 0).encoded
        #expect(SeqWindow(encoded: valid) == SeqWindow(first: 42, at: 0))
        for version: UInt8 in [0, 1, 2, 4, 255] {
            var other = valid
            other[0] = version
            #expect(SeqWindow(encoded: other) == nil, "version \(version) must not decode")
        }
        #expect(SeqWindow(encoded: []) == nil)
        #expect(SeqWindow(encoded: [1]) == nil)
        #expect(SeqWindow(encoded: [2]) == nil)
        #expect(SeqWindow(encoded: Array(valid.dropLast())) == nil, "one byte short")
        #expect(SeqWindow(encoded: valid + [0]) == nil, "one byte too many")
        #expect(SeqWindow(encoded: valid + valid) == nil)
        var generator = SeededGenerator(seed: 0xBAD)
        for _ in 0..<500 {
            var length = Int.random(in: 0...300, using: &generator)
            if length == valid.count { length += 1 }
            let garbage = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(SeqWindow(encoded: garbage) == nil, "\(length) random bytes decoded")
        }
    }
}
