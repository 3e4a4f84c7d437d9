import SensorCore

/// The bytes of one chunk row (`chunks.data`): the buckets of one series at one
/// resolution in the chunk's windows, in ascending window order.
///
/// ```
/// chunk  = version u8 (1) | bucket*
/// bucket = index u8 (0..<32) | count varint | first offset varint | last offset varint
///          | sum | min | max | mean | m2 | first | last   (f64 bits, little-endian)
///          | sketch length varint | sketch (QuantileSketch's encoding; empty: none)
/// ```
/// The offsets are the event times of the first and last reading, µs after the window's
/// start. A bucket's record is self-contained, so a flush copies the records it does not
/// change byte for byte and decodes only the ones it merges into.
enum ChunkCodec {
    static let version: UInt8 = 1

    /// One bucket as read from a chunk: its scalar statistics (empty sketch), where its
    /// sketch's bytes are, and where its whole record is (for copying it unchanged).
    struct EncodedBucket {
        var index: Int
        var windowStart: Int64
        var stats: BucketStats
        var sketch: UnsafeRawBufferPointer
        var record: Range<Int>
    }

    /// What is wrong with a chunk's bytes.
    struct Damage: Error, CustomStringConvertible {
        let description: String
    }

    /// Walks the buckets of one chunk's bytes, checking each record as it goes.
    struct Reader {
        private var reader: Varint.Reader
        private let chunkStart: Int64
        private let resolution: Int64
        private var lastIndex = -1

        init(_ bytes: UnsafeRawBufferPointer, chunkStart: Int64, resolution: Resolution) throws(Damage) {
            guard bytes.first == ChunkCodec.version else {
                throw Damage(description: "chunk of another version (\(bytes.first.map(String.init) ?? "empty"))")
            }
            reader = Varint.Reader(bytes: bytes, offset: 1)
            self.chunkStart = chunkStart
            self.resolution = resolution.microseconds
        }

        /// The next bucket, nil after the last one.
        mutating func next() throws(Damage) -> EncodedBucket? {
            guard !reader.isAtEnd else { return nil }
            let start = reader.offset
            let bytes = reader.bytes
            let index = Int(bytes[start])
            reader.offset += 1
            guard index > lastIndex, index < Int(ChunkLayout.windows) else { throw damage("window index \(index) out of order") }
            lastIndex = index
            guard let count = reader.next(), count > 0, count <= UInt64(Int64.max),
                  let firstOffset = reader.next(), firstOffset < UInt64(resolution),
                  let lastOffset = reader.next(), lastOffset < UInt64(resolution)
            else { throw damage("bucket header") }
            guard reader.offset + 56 <= bytes.count else { throw damage("bucket values cut off") }
            let sum = nextDouble(), min = nextDouble(), max = nextDouble(), mean = nextDouble()
            let m2 = nextDouble(), first = nextDouble(), last = nextDouble()
            guard let sketchLength = reader.next(), sketchLength <= UInt64(bytes.count - reader.offset) else {
                throw damage("sketch length")
            }
            let sketch = UnsafeRawBufferPointer(rebasing: bytes[reader.offset..<(reader.offset + Int(sketchLength))])
            reader.offset += Int(sketchLength)
            let windowStart = chunkStart + Int64(index) * resolution
            let stats = BucketStats(
                count: Int64(count), sum: sum, min: min, max: max, mean: mean, m2: m2,
                firstTimestamp: windowStart + Int64(firstOffset), first: first,
                lastTimestamp: windowStart + Int64(lastOffset), last: last)
            return EncodedBucket(index: index, windowStart: windowStart, stats: stats, sketch: sketch, record: start..<reader.offset)
        }

        private func damage(_ what: String) -> Damage {
            Damage(description: "damaged chunk: \(what) at byte \(reader.offset)")
        }

        /// The next 8 bytes as a little-endian double (the caller checked they are there).
        @inline(__always)
        private mutating func nextDouble() -> Double {
            let value = reader.bytes.loadUnaligned(fromByteOffset: reader.offset, as: UInt64.self)
            reader.offset += 8
            return Double(bitPattern: UInt64(littleEndian: value))
        }
    }

    /// Appends the record of one bucket (its window is `windowStart`, at `index`).
    /// `sketchBytes` is a scratch buffer reused across calls.
    static func append(index: Int, windowStart: Int64, stats: BucketStats, to bytes: inout [UInt8], sketchBytes: inout [UInt8]) {
        bytes.append(UInt8(index))
        Varint.append(UInt64(stats.count), to: &bytes)
        Varint.append(UInt64(stats.firstTimestamp - windowStart), to: &bytes)
        Varint.append(UInt64(stats.lastTimestamp - windowStart), to: &bytes)
        for value in [stats.sum, stats.min, stats.max, stats.mean, stats.m2, stats.first, stats.last] {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }
        if stats.sketch.isEmpty {
            bytes.append(0)
        } else {
            stats.sketch.encode(into: &sketchBytes)
            Varint.append(UInt64(sketchBytes.count), to: &bytes)
            bytes.append(contentsOf: sketchBytes)
        }
    }
}
