/// Which sequence numbers of one series were already counted, for the sequence the device
/// is on now and the one before it. Bounded size per series, whatever the traffic: 29
/// bytes encoded for a device counting up in order, 155 once a seq came out of order, and
/// the previous sequence's 27 or 153 more once the device restarted its sequence.
///
/// The rule (CONTRACT §2, v2):
/// - a seq that was counted is a duplicate;
/// - a seq never counted is new, also below the highest, while it is at most ``width``
///   below it;
/// - a seq more than ``width`` below the highest is a redelivery from long ago (the
///   window no longer remembers it, and counting a reading twice is the worse mistake)…
/// - …unless its event time is later than the latest counted reading of the series: then
///   the device restarted its sequence (a reboot, a battery swap) and a new sequence
///   begins at that seq and that time. The same rule keeps an absurd seq (2^64 - 1) from
///   muting a device: its next reading is far below it, and later.
/// - A reading stamped before the current sequence began belongs to the previous one and
///   is judged by it, so redeliveries from before a restart stay duplicates. One stamped
///   before the previous sequence began is too old to judge and taken as a duplicate.
public struct SeqWindow: Sendable, Equatable {
    /// Sequence numbers remembered below the highest one.
    public static let width = 1024

    /// The sequence the device is on now.
    private var current: Sequence
    /// The one before the last restart, while readings of it may still arrive late. Boxed:
    /// most series never restart, and an inline optional made every window 153 bytes
    /// larger and every admit copy it (the optimiser read the whole optional to test it
    /// for nil: 2.6% of the daemon's CPU under load).
    private var previous: PreviousSequence?

    /// A window that counted exactly `seq`, of a reading stamped `timestamp`.
    public init(first seq: UInt64, at timestamp: Int64) {
        current = Sequence(first: seq, at: timestamp)
    }

    /// The highest seq counted in the current sequence.
    public var highest: UInt64 { current.highest }

    /// Event time (µs) of the latest reading counted in the current sequence.
    public var latestTimestamp: Int64 { current.latest }

    /// Whether a reading with `seq`, stamped `timestamp`, would be counted (not a
    /// duplicate), without recording it.
    public func isNew(_ seq: UInt64, at timestamp: Int64) -> Bool {
        switch judge(seq, at: timestamp) {
        case .current(let place): current.isNew(place, at: timestamp)
        case .previous(let place): place.map { previous?.sequence.isNew($0, at: .min) ?? false } ?? false
        }
    }

    /// Records `seq` (stamped `timestamp`) as counted; returns false (and changes nothing)
    /// when it is a duplicate.
    @discardableResult
    public mutating func admit(_ seq: UInt64, at timestamp: Int64) -> Bool {
        switch judge(seq, at: timestamp) {
        case .current(let place):
            guard current.isNew(place, at: timestamp) else { return false }
            if case .forgotten = place {
                previous = PreviousSequence(current)
                current = Sequence(first: seq, at: timestamp)
            } else {
                current.record(seq, place, at: timestamp)
            }
            return true
        case .previous(let place):
            guard let place, var older = previous?.sequence, older.isNew(place, at: .min) else { return false }
            older.record(seq, place, at: timestamp)
            previous = PreviousSequence(older)
            return true
        }
    }

    /// Which sequence judges a reading, and where its seq lies in that sequence (nil: a
    /// reading older than every sequence kept).
    private enum Judge {
        case current(Sequence.Place)
        case previous(Sequence.Place?)
    }

    @inline(__always)
    private func judge(_ seq: UInt64, at timestamp: Int64) -> Judge {
        guard timestamp < current.start, let previous = previous?.sequence else { return .current(current.place(of: seq)) }
        return .previous(timestamp < previous.start ? nil : previous.place(of: seq))
    }

    public static func == (lhs: SeqWindow, rhs: SeqWindow) -> Bool {
        lhs.current == rhs.current && lhs.previous?.sequence == rhs.previous?.sequence
    }
}

extension SeqWindow {
    /// One sequence: its highest seq, a bitmap of the ``SeqWindow/width`` seqs below it,
    /// and the event times of its first and latest counted readings.
    fileprivate struct Sequence: Sendable, Equatable {
        /// `SeqWindow.width / 64`: the size of a bitmap.
        static let wordCount = 16
        /// Bytes of the longest encoded sequence: the times, the kind and every word.
        static let largestLength = 8 * (3 + wordCount) + 1

        var highest: UInt64
        /// Event time the sequence began at: readings stamped earlier belong to an older one.
        var start: Int64
        var latest: Int64
        /// Seqs `highest - 1` down to `highest - run` were counted, and are not in the
        /// bitmap yet (at most ``SeqWindow/width``). A device counting up one by one only adds to
        /// it, where shifting the whole bitmap for each of its readings was most of the
        /// windows' cost, paid in ingress and again in the aggregator. Folded into the
        /// bitmap (``normalize()``) when a seq comes out of order, and before comparing or
        /// encoding a window that has one.
        var run: UInt64 = 0
        /// Bit `i` of the bitmap (word `i / 64`, bit `i % 64`) set: seq
        /// `highest - run - 1 - i` was counted; bits of seqs more than ``SeqWindow/width``
        /// below the highest mean nothing. The highest itself is always counted, so it needs
        /// no bit. ``wordCount`` words, or none while every bit is 0: a device counting up
        /// in order only adds to `run`, and its window (one per series in ingress) then
        /// takes 48 bytes, not 176. A seq out of order (or a gap) makes the words; a run
        /// that spans the window drops them. An array, so a copy shares them until one of
        /// the two changes: a staged reading keeps the window as it was, for a roll-back,
        /// and a change then allocates once per reading out of order, never for one in order.
        private var bitmap: [UInt64] = []

        /// Word `index` of the bitmap.
        @inline(__always)
        func word(at index: Int) -> UInt64 {
            bitmap.isEmpty ? 0 : bitmap[index]
        }

        /// Sets the bits of `mask` in word `index`, making the bitmap first if there is none.
        private mutating func setBits(_ mask: UInt64, inWord index: Int) {
            if bitmap.isEmpty { bitmap = Array(repeating: 0, count: Self.wordCount) }
            bitmap[index] |= mask
        }

        static func == (lhs: Sequence, rhs: Sequence) -> Bool {
            guard lhs.highest == rhs.highest, lhs.start == rhs.start, lhs.latest == rhs.latest else { return false }
            let (left, right) = (lhs.normalized, rhs.normalized)
            for index in 0..<wordCount where left.word(at: index) != right.word(at: index) { return false }
            return true
        }

        init(first seq: UInt64, at timestamp: Int64) {
            highest = seq
            start = timestamp
            latest = timestamp
        }

        /// The same sequence with its run folded into the bitmap (`run` 0).
        var normalized: Sequence {
            var copy = self
            copy.normalize()
            return copy
        }

        /// Folds `run` into the bitmap: every bit moves `run` places further from the
        /// highest, and the run's seqs take the bits below.
        mutating func normalize() {
            guard run > 0 else { return }
            shift(by: run)
            let full = Int(run / 64)
            for index in 0..<full { setBits(.max, inWord: index) }
            if full < Self.wordCount, run % 64 > 0 { setBits((1 << (run % 64)) - 1, inWord: full) }
            run = 0
        }

        /// Where a seq lies relative to the window.
        enum Place {
            case above
            case highest
            /// At most `width` below the highest: its bit is `offset`.
            case remembered(offset: UInt64)
            /// More than `width` below the highest.
            case forgotten
        }

        @inline(__always)
        func place(of seq: UInt64) -> Place {
            if seq > highest { return .above }
            if seq == highest { return .highest }
            let offset = highest - seq - 1
            return offset < UInt64(SeqWindow.width) ? .remembered(offset: offset) : .forgotten
        }

        /// Whether a seq at `place` is new; a forgotten one only when stamped after the
        /// latest counted reading (a restart).
        func isNew(_ place: Place, at timestamp: Int64) -> Bool {
            switch place {
            case .above: true
            case .highest: false
            case .remembered(let offset):
                offset >= run && word(at: Int((offset - run) / 64)) & (1 << ((offset - run) % 64)) == 0
            case .forgotten: timestamp > latest
            }
        }

        /// Records a new seq at `place` (not `forgotten`, which begins a new sequence).
        mutating func record(_ seq: UInt64, _ place: Place, at timestamp: Int64) {
            switch place {
            case .above:
                let distance = seq - highest
                if distance == 1 {
                    // The old highest joins the run. A run that spans the window leaves no
                    // bit of the bitmap within it, and grows no further.
                    run = Swift.min(run + 1, UInt64(SeqWindow.width))
                    if run == UInt64(SeqWindow.width) { bitmap = [] }
                    highest = seq
                    break
                }
                normalize()
                shift(by: distance)
                // The old highest is now `distance` below: bit `distance - 1`, if still remembered.
                if distance <= UInt64(SeqWindow.width) {
                    setBits(1 << ((distance - 1) % 64), inWord: Int((distance - 1) / 64))
                }
                highest = seq
            case .remembered(let offset):
                // New, so not in the run (`isNew`).
                setBits(1 << ((offset - run) % 64), inWord: Int((offset - run) / 64))
            case .highest, .forgotten:
                return
            }
            latest = Swift.max(latest, timestamp)
        }

        /// Moves every remembered seq `distance` places further from the highest.
        private mutating func shift(by distance: UInt64) {
            guard !bitmap.isEmpty else { return }
            guard distance < UInt64(SeqWindow.width) else {
                bitmap = []
                return
            }
            let wordShift = Int(distance / 64)
            let bitShift = distance % 64
            for index in stride(from: Self.wordCount - 1, through: 0, by: -1) {
                let source = index - wordShift
                var shifted: UInt64 = source >= 0 ? word(at: source) << bitShift : 0
                if bitShift > 0, source - 1 >= 0 {
                    shifted |= word(at: source - 1) >> (64 - bitShift)
                }
                bitmap[index] = shifted
            }
        }

        /// highest, start, latest (8 bytes each, little-endian), then the seqs counted
        /// below the highest: when they are the `n` right below it (a device counting up in
        /// order), kind 0 and `n` in 2 bytes; else kind 1 and the bitmap words (run folded
        /// in), 8 bytes each. A flush stores the window of every series that sent seqs, so
        /// with 100,000 series the bitmaps were 12 MB a flush, of zeros and a run.
        func encode(into bytes: inout [UInt8]) {
            for word in [highest, UInt64(bitPattern: start), UInt64(bitPattern: latest)] {
                withUnsafeBytes(of: word.littleEndian) { bytes.append(contentsOf: $0) }
            }
            // Without a bitmap, the seqs counted below the highest are the run alone.
            guard !bitmap.isEmpty else { return Self.append(run: Int(run), to: &bytes) }
            let words = normalized.bitmap
            if let run = Self.run(in: words) { return Self.append(run: run, to: &bytes) }
            bytes.append(1)
            for word in words {
                withUnsafeBytes(of: word.littleEndian) { bytes.append(contentsOf: $0) }
            }
        }

        /// Kind 0: the seqs counted below the highest are the `run` right below it.
        private static func append(run: Int, to bytes: inout [UInt8]) {
            bytes.append(0)
            withUnsafeBytes(of: UInt16(run).littleEndian) { bytes.append(contentsOf: $0) }
        }

        /// `n` when exactly bits `0..<n` of `words` are set (0 when none is), else nil.
        private static func run(in words: [UInt64]) -> Int? {
            var index = 0
            while index < words.count, words[index] == .max { index += 1 }
            var run = 64 * index
            guard index < words.count else { return run }
            let word = words[index]
            // Bits 0..<k set and no other: one below a power of two.
            guard word & (word &+ 1) == 0 else { return nil }
            run += word.nonzeroBitCount
            for later in (index + 1)..<words.count where words[later] != 0 { return nil }
            return run
        }

        /// Reads a sequence as ``encode(into:)`` writes it (`compact`: version 3), or as
        /// versions 1 and 2 did (no kind, every word); nil when the fields run out or the
        /// kind or run is not one.
        init?(reading fields: inout FieldReader, compact: Bool) {
            guard let highest = fields.next(8), let start = fields.next(8), let latest = fields.next(8) else { return nil }
            self.init(first: highest, at: Int64(bitPattern: start))
            self.latest = Int64(bitPattern: latest)
            switch compact ? fields.next(1) : 1 {
            case 0:
                // The run form a device counting up keeps in memory too.
                guard let run = fields.next(2), run <= UInt64(SeqWindow.width) else { return nil }
                self.run = run
            case 1:
                for index in 0..<Self.wordCount {
                    guard let value = fields.next(8) else { return nil }
                    if value != 0 { setBits(value, inWord: index) }
                }
            default:
                return nil
            }
        }
    }

    /// Little-endian fields taken from the front of an encoded window.
    fileprivate struct FieldReader {
        var bytes: ArraySlice<UInt8>

        /// The next `byteCount`-byte field; nil past the end.
        mutating func next(_ byteCount: Int) -> UInt64? {
            guard bytes.count >= byteCount else { return nil }
            var value: UInt64 = 0
            for byte in bytes.prefix(byteCount).reversed() { value = value << 8 | UInt64(byte) }
            bytes.removeFirst(byteCount)
            return value
        }
    }
}

extension SeqWindow {
    /// Version 3 writes a bitmap that is a run as its length; version 2 (written before
    /// 2026-12-06) wrote every word; version 1 (schema v2 databases) had one sequence
    /// without times. All three decode.
    private static let encodingVersion: UInt8 = 3
    private static let versionOneLength = 1 + 8 * (1 + Sequence.wordCount)

    /// The fewest bytes ``encoded`` takes: the version, a current sequence of three words
    /// and a run (its kind and two bytes), no previous one (its flag). A device counting
    /// up in order takes that.
    public static let leastEncodedCount = 1 + 3 * 8 + 3 + 1

    /// Versioned encoding: version, the current sequence, a flag byte (1 when a previous
    /// sequence follows) and the previous sequence.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(2 + 2 * Sequence.largestLength)
        encode(into: &bytes)
        return bytes
    }

    /// Appends ``encoded`` to `bytes`.
    public func encode(into bytes: inout [UInt8]) {
        bytes.append(Self.encodingVersion)
        current.encode(into: &bytes)
        bytes.append(previous == nil ? 0 : 1)
        previous?.sequence.encode(into: &bytes)
    }

    /// Decodes ``encoded``, and the version 1 encoding, which has no event times: it takes
    /// `latestTimestamp` (the series' last-seen time is the right one) as the latest and as
    /// the start. Nil for bytes of another version or length.
    public init?(encoded bytes: [UInt8], latestTimestamp: Int64 = .max) {
        switch (bytes.first, bytes.count) {
        case (1, Self.versionOneLength):
            // highest, then the words: put the missing times in between, then set them.
            var fields = FieldReader(bytes: (Array(bytes[1..<9]) + [UInt8](repeating: 0, count: 16) + bytes[9...])[...])
            guard let current = Sequence(reading: &fields, compact: false) else { return nil }
            self.current = current
            self.current.start = latestTimestamp
            self.current.latest = latestTimestamp
        case (2, _), (Self.encodingVersion, _):
            var fields = FieldReader(bytes: bytes[1...])
            let compact = bytes[0] == Self.encodingVersion
            guard let current = Sequence(reading: &fields, compact: compact) else { return nil }
            self.current = current
            switch fields.next(1) {
            case 0:
                guard fields.bytes.isEmpty else { return nil }
            case 1:
                guard let previous = Sequence(reading: &fields, compact: compact), fields.bytes.isEmpty else { return nil }
                self.previous = PreviousSequence(previous)
            default:
                return nil
            }
        default:
            return nil
        }
    }
}

extension SeqWindow {
    /// A finished sequence, immutable: changed by replacing the box (rare: a late reading
    /// from before a restart).
    fileprivate final class PreviousSequence: Sendable {
        let sequence: Sequence

        init(_ sequence: Sequence) {
            self.sequence = sequence
        }
    }
}
