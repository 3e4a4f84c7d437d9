/// Which sequence numbers of one series were already counted: the highest one and a
/// bitmap of the ``width`` numbers just below it. Constant size per series, whatever the
/// traffic: 137 bytes when encoded.
///
/// The rule (documented in README): a seq that was counted is a duplicate; a seq more than
/// ``width`` below the highest counted one is also taken as a duplicate, because the window
/// no longer remembers it and counting a reading twice is the worse mistake. Devices
/// therefore must not restart their sequence after it passed the window.
public struct SeqWindow: Sendable, Equatable {
    /// Sequence numbers remembered below the highest one.
    public static let width = 1024
    private static let wordCount = width / 64

    /// The highest seq counted so far.
    public private(set) var highest: UInt64
    /// Bit `i` (word `i / 64`, bit `i % 64`) set: seq `highest - 1 - i` was counted. The
    /// highest itself is always counted, so it needs no bit.
    private var words: [UInt64]

    /// A window that counted exactly `seq`.
    public init(first seq: UInt64) {
        highest = seq
        words = Array(repeating: 0, count: Self.wordCount)
    }

    /// Whether `seq` would be counted (not a duplicate), without recording it.
    public func isNew(_ seq: UInt64) -> Bool {
        if seq > highest { return true }
        guard seq < highest else { return false }
        let offset = highest - seq - 1
        guard offset < UInt64(Self.width) else { return false }
        return words[Int(offset / 64)] & (1 << (offset % 64)) == 0
    }

    /// Records `seq` as counted; returns false (and changes nothing) when it is a duplicate.
    @discardableResult
    public mutating func admit(_ seq: UInt64) -> Bool {
        guard isNew(seq) else { return false }
        if seq > highest {
            let distance = seq - highest
            shift(by: distance)
            // The old highest is now `distance` below: bit `distance - 1`, if still remembered.
            if distance <= UInt64(Self.width) {
                words[Int((distance - 1) / 64)] |= 1 << ((distance - 1) % 64)
            }
            highest = seq
        } else {
            let offset = highest - seq - 1
            words[Int(offset / 64)] |= 1 << (offset % 64)
        }
        return true
    }

    /// Moves every remembered seq `distance` places further from the highest.
    private mutating func shift(by distance: UInt64) {
        guard distance < UInt64(Self.width) else {
            for index in words.indices { words[index] = 0 }
            return
        }
        let wordShift = Int(distance / 64)
        let bitShift = distance % 64
        for index in stride(from: words.count - 1, through: 0, by: -1) {
            let source = index - wordShift
            var word: UInt64 = source >= 0 ? words[source] << bitShift : 0
            if bitShift > 0, source - 1 >= 0 {
                word |= words[source - 1] >> (64 - bitShift)
            }
            words[index] = word
        }
    }
}

extension SeqWindow {
    private static let encodingVersion: UInt8 = 1

    /// Versioned little-endian encoding: version, highest, then the bitmap words.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = [Self.encodingVersion]
        bytes.reserveCapacity(1 + 8 * (1 + words.count))
        for word in [highest] + words {
            withUnsafeBytes(of: word.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// Decodes ``encoded``; nil for bytes of another version or length.
    public init?(encoded bytes: [UInt8]) {
        guard bytes.count == 1 + 8 * (1 + Self.wordCount), bytes[0] == Self.encodingVersion else { return nil }
        func word(_ index: Int) -> UInt64 {
            var value: UInt64 = 0
            for byte in (0..<8).reversed() { value = value << 8 | UInt64(bytes[1 + index * 8 + byte]) }
            return value
        }
        highest = word(0)
        words = (0..<Self.wordCount).map { word($0 + 1) }
    }
}
