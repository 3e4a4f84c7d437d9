import Testing
import SensorCore

/// The documented rule, kept the naive way: every admitted seq in a set, plus the highest.
/// A seq is new when it is above the highest, or at most `width` below it and never
/// admitted; anything more than `width` below the highest counts as a duplicate.
private struct ModelWindow {
    private(set) var highest: UInt64
    private var admitted: Set<UInt64>
    let width = UInt64(SeqWindow.width)

    init(first seq: UInt64) {
        highest = seq
        admitted = [seq]
    }

    func isNew(_ seq: UInt64) -> Bool {
        if seq > highest { return true }
        if highest - seq > width { return false }
        return !admitted.contains(seq)
    }

    mutating func admit(_ seq: UInt64) -> Bool {
        guard isNew(seq) else { return false }
        admitted.insert(seq)
        if seq > highest {
            highest = seq
            // Forget what the rule no longer looks at, so the set stays small.
            if admitted.count > 4 * Int(width) {
                admitted = admitted.filter { highest - $0 <= width }
            }
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
    for seq in range where window.isNew(seq) != model.isNew(seq) {
        mismatches.append("seq \(seq) (highest - \(Int64(bitPattern: model.highest &- seq))): window says new=\(window.isNew(seq)), rule says new=\(model.isNew(seq))")
        if mismatches.count == 5 { break }
    }
    #expect(mismatches.isEmpty, "\(context): \(mismatches.joined(separator: "; "))", sourceLocation: sourceLocation)
}

@Suite struct SeqWindowTests {
    static let boundaryShifts: [UInt64] = [1, 63, 64, 65, 1023, 1024, 1025]

    @Test func firstSeqIsCountedAndNothingElseIs() {
        let window = SeqWindow(first: 5_000)
        #expect(window.highest == 5_000)
        #expect(!window.isNew(5_000), "the first seq itself is a duplicate")
        #expect(window.isNew(5_001))
        #expect(window.isNew(UInt64.max))
        for below in 1...UInt64(SeqWindow.width) {
            #expect(window.isNew(5_000 - below), "seq \(5_000 - below) (\(below) below the highest) was never counted")
        }
        #expect(!window.isNew(5_000 - UInt64(SeqWindow.width) - 1), "more than width below the highest is taken as a duplicate")
        #expect(!window.isNew(0))
    }

    @Test func admitRefusesARepeatAndChangesNothing() {
        var window = SeqWindow(first: 10)
        let first = window.admit(12)
        #expect(first)
        let before = window
        let repeats = [window.admit(12), window.admit(10)]
        #expect(repeats == [false, false])
        #expect(window == before, "a refused admit must leave the window as it was")
        let gap = [window.admit(11), window.admit(11)]
        #expect(gap == [true, false])
        #expect(window.highest == 12)
    }

    /// Every seq remembered before a forward jump of `shift` is still a duplicate after it
    /// as long as it lies within the window, and every gap in the window is still new.
    @Test(arguments: boundaryShifts)
    func rememberedSeqsSurviveAForwardJump(shift: UInt64) {
        let base: UInt64 = 1 << 40
        var window = SeqWindow(first: base)
        var model = ModelWindow(first: base)
        // A pattern with gaps below the highest: every third seq of the last 1100, plus
        // both ends of each 64-bit word.
        for seq in (base - 1_100)...base where seq % 3 == 0 || seq % 64 == 0 || seq % 64 == 63 {
            let (got, expected) = (window.admit(seq), model.admit(seq))
            #expect(got == expected, "admit(\(seq)) before the jump")
        }
        expectSameIsNew(window, model, over: around(base, below: 1_200), "before a jump of \(shift)")
        let (jumped, modelJumped) = (window.admit(base + shift), model.admit(base + shift))
        #expect(jumped && modelJumped)
        #expect(window.highest == base + shift)
        expectSameIsNew(window, model, over: around(base + shift, below: 1_200 + shift), "after a jump of \(shift)")
    }

    /// The boundary itself, on a window with nothing but two seqs in it.
    @Test(arguments: boundaryShifts)
    func oldHighestIsADuplicateAfterAJumpAndItsNeighboursFollowTheRule(shift: UInt64) {
        let base: UInt64 = 100_000
        var window = SeqWindow(first: base)
        let jumped = window.admit(base + shift)
        #expect(jumped)
        #expect(!window.isNew(base), "the old highest was counted: a duplicate whether remembered or too old")
        // One below the old highest: never counted. New if it is at most width below.
        let offset = shift + 1
        #expect(window.isNew(base - 1) == (offset <= UInt64(SeqWindow.width)),
                "seq \(base - 1) is \(offset) below the highest \(base + shift); width is \(SeqWindow.width)")
        // One above the old highest (when not the new highest): never counted, within the window.
        if shift > 1 { #expect(window.isNew(base + 1)) }
    }

    @Test func exactlyWidthBelowTheHighestIsStillRemembered() {
        let width = UInt64(SeqWindow.width)
        var window = SeqWindow(first: 1)
        let jumped = window.admit(1 + width)
        #expect(jumped, "jump of exactly width")
        #expect(!window.isNew(1), "seq 1 was counted and lies exactly width below the highest")
        var fresh = SeqWindow(first: 10_000)
        let far = fresh.admit(10_000 + 2 * width)
        #expect(far)
        #expect(fresh.isNew(10_000 + width), "never counted, exactly width below the highest: the rule says new")
        let edge = fresh.admit(10_000 + width)
        #expect(edge, "never counted, exactly width below the highest: the rule says it is admitted")
        #expect(!fresh.isNew(10_000 + width), "now counted")
        #expect(!fresh.isNew(10_000 + width - 1), "width + 1 below the highest is taken as a duplicate")
    }

    @Test func hugeJumpsForgetEverythingBelow() {
        var window = SeqWindow(first: 3)
        var model = ModelWindow(first: 3)
        for seq: UInt64 in [4, 6, 1 << 20, (1 << 20) - 5, 1 << 62, (1 << 62) - 1024, UInt64.max - 1, UInt64.max - 1025, UInt64.max] {
            let (got, expected) = (window.admit(seq), model.admit(seq))
            #expect(got == expected, "admit(\(seq))")
            #expect(window.highest == model.highest)
            expectSameIsNew(window, model, over: around(model.highest, below: 1_100), "after admitting \(seq)")
        }
        #expect(!window.isNew(UInt64.max))
        let refused = !window.admit(0)
        #expect(refused)
    }

    /// Many random walks, each step picked to hit the interesting distances.
    @Test func matchesTheRuleOverRandomSequences() {
        var generator = SeededGenerator(seed: 0x5E9_1D0)
        let width = UInt64(SeqWindow.width)
        var admittedTotal = 0, refusedTotal = 0
        for walk in 0..<300 {
            let start: UInt64 = switch walk % 4 {
            case 0: 0
            case 1: UInt64.random(in: 0...5_000, using: &generator)
            case 2: UInt64.random(in: 0...(UInt64.max / 2), using: &generator)
            default: UInt64.max - UInt64.random(in: 0...(1 << 24), using: &generator)
            }
            var window = SeqWindow(first: start)
            var model = ModelWindow(first: start)
            var recent: [UInt64] = [start]
            for step in 0..<400 {
                let highest = model.highest
                let seq: UInt64
                switch UInt64.random(in: 0..<10, using: &generator) {
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
                default: // a repeat of something sent lately
                    seq = recent.randomElement(using: &generator)!
                }
                let expected = model.admit(seq)
                let got = window.admit(seq)
                if got != expected {
                    Issue.record("walk \(walk) step \(step): admit(\(seq)) with highest \(highest) returned \(got), the rule says \(expected)")
                    break
                }
                if window.highest != model.highest {
                    Issue.record("walk \(walk) step \(step): highest \(window.highest), the rule says \(model.highest)")
                    break
                }
                if expected { admittedTotal += 1 } else { refusedTotal += 1 }
                recent.append(seq)
                if recent.count > 64 { recent.removeFirst() }
                if step % 50 == 49 {
                    expectSameIsNew(window, model, over: around(model.highest, below: width + 8), "walk \(walk) step \(step)")
                }
            }
            expectSameIsNew(window, model, over: around(model.highest, below: width + 8), "walk \(walk) end")
        }
        // The walks must exercise both outcomes heavily, or they prove little.
        #expect(admittedTotal > 20_000 && refusedTotal > 20_000, "admitted \(admittedTotal), refused \(refusedTotal)")
    }

    /// Repeats inside one batch, as ShardIngress feeds them: the first occurrence counts.
    @Test func repeatsWithinABatchCountOnce() {
        var window = SeqWindow(first: 100)
        let batch: [UInt64] = [101, 102, 101, 103, 102, 100, 104, 104, 99]
        let results = batch.map { window.admit($0) }
        #expect(results == [true, true, false, true, false, false, true, false, true])
        #expect(window.highest == 104)
    }

    // MARK: - Encoding

    @Test func encodingRoundTripsExactly() {
        var generator = SeededGenerator(seed: 137)
        for trial in 0..<200 {
            let start = UInt64.random(in: 0...UInt64.max, using: &generator)
            var window = SeqWindow(first: start)
            for _ in 0..<Int.random(in: 0..<300, using: &generator) {
                let delta = UInt64.random(in: 0...1_100, using: &generator)
                let seq = Bool.random(using: &generator)
                    ? (window.highest <= UInt64.max - delta ? window.highest + delta : UInt64.max)
                    : (window.highest >= delta ? window.highest - delta : 0)
                window.admit(seq)
            }
            let bytes = window.encoded
            #expect(bytes.count == 137, "trial \(trial): encoded size \(bytes.count)")
            #expect(bytes.first == 1, "trial \(trial): version byte \(String(describing: bytes.first))")
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
            for seq in around(window.highest, below: UInt64(SeqWindow.width) + 4) where decoded.isNew(seq) != window.isNew(seq) {
                mismatches += 1
            }
            #expect(mismatches == 0, "trial \(trial): decoded window answers isNew differently for \(mismatches) seqs")
        }
    }

    @Test func decodingRefusesOtherVersionsLengthsAndGarbage() {
        let valid = SeqWindow(first: 42).encoded
        #expect(SeqWindow(encoded: valid) == SeqWindow(first: 42))
        for version: UInt8 in [0, 2, 255] {
            var other = valid
            other[0] = version
            #expect(SeqWindow(encoded: other) == nil, "version \(version) must not decode")
        }
        #expect(SeqWindow(encoded: []) == nil)
        #expect(SeqWindow(encoded: [1]) == nil)
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
