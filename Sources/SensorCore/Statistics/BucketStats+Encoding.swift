extension BucketStats {
    private static let encodingVersion: UInt8 = 1
    /// version, count, sum, min, max, mean, m2, first time, first, last time, last.
    private static let fixedLength = 1 + 10 * 8

    /// Versioned binary form of every field, bit for bit (also values a bucket should never
    /// hold, such as NaN): version, count, sum, min, max, mean, m2, first time, first,
    /// last time, last (8 bytes each, little-endian), then the sketch's own encoding.
    /// Used where a bucket must be kept whole outside the bucket table.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = [Self.encodingVersion]
        bytes.reserveCapacity(Self.fixedLength + 16)
        let words: [UInt64] = [
            UInt64(bitPattern: count), sum.bitPattern, min.bitPattern, max.bitPattern, mean.bitPattern, m2.bitPattern,
            UInt64(bitPattern: firstTimestamp), first.bitPattern, UInt64(bitPattern: lastTimestamp), last.bitPattern,
        ]
        for word in words {
            withUnsafeBytes(of: word.littleEndian) { bytes.append(contentsOf: $0) }
        }
        bytes += sketch.encoded
        return bytes
    }

    /// Decodes ``encoded``; nil for another version, a short buffer or a damaged sketch.
    public init?(encoded bytes: [UInt8]) {
        guard bytes.count > Self.fixedLength, bytes[0] == Self.encodingVersion,
              let sketch = QuantileSketch(encoded: Array(bytes[Self.fixedLength...]))
        else { return nil }
        func word(_ index: Int) -> UInt64 {
            var value: UInt64 = 0
            for byte in (0..<8).reversed() { value = value << 8 | UInt64(bytes[1 + index * 8 + byte]) }
            return value
        }
        self.init(
            count: Int64(bitPattern: word(0)), sum: Double(bitPattern: word(1)), min: Double(bitPattern: word(2)),
            max: Double(bitPattern: word(3)), mean: Double(bitPattern: word(4)), m2: Double(bitPattern: word(5)),
            firstTimestamp: Int64(bitPattern: word(6)), first: Double(bitPattern: word(7)),
            lastTimestamp: Int64(bitPattern: word(8)), last: Double(bitPattern: word(9)), sketch: sketch)
    }

    /// Whether these stats can be stored as a bucket: ``storageProblem`` is nil. Inlinable,
    /// so a flush asking it of every bucket in an array reads the bucket in place; calling
    /// across the module copied each one first (retaining its sketch's arrays).
    @inlinable
    public var isStorable: Bool {
        // The common case first: one sum is finite only if every term is.
        guard count > 0 else { return false }
        if (sum + min + max + mean + m2 + first + last).isFinite { return true }
        return sum.isFinite && min.isFinite && max.isFinite && mean.isFinite && m2.isFinite && first.isFinite && last.isFinite
    }

    /// Why these stats cannot be stored as a bucket (a field that is not finite, a count
    /// that is not positive), or nil. Readings within ``ValueRange`` never give one; a
    /// journal written before that range was enforced can.
    public var storageProblem: String? {
        guard !isStorable else { return nil }
        guard count > 0 else { return "the bucket counts \(count) readings" }
        for (name, value) in [("sum", sum), ("min", min), ("max", max), ("mean", mean), ("m2", m2), ("first", first), ("last", last)]
        where !value.isFinite {
            return "its \(name) is \(value), not a finite number"
        }
        return nil
    }
}
