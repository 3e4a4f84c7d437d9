package import SensorCore

/// The bytes of one chunk row (`chunks.data`): the buckets of one series at one
/// resolution in the chunk's windows, in ascending window order.
///
/// ```
/// chunk  = version u8 (1) | bucket*
/// bucket = form u3 | index u5 (0..<32), one byte, then by form:
///   0 (any):         count varint | first offset varint | last offset varint
///                    | sum | min | max | mean | m2 | first | last   (f64 bits, little-endian)
///                    | sketch length varint | sketch (QuantileSketch's encoding; empty: none)
///   1 (one reading): offset varint | value
///   2 (two, the bucket of adding first then last): first offset | last offset | first | last
///   3 (two, the bucket of adding last then first): the same
///   4 (decimal):     count varint | first offset varint | last offset varint | scale u8 (0...6)
///                    | min (zigzag varint, in units of 10^-scale) | max − min | first − min | last − min
///                    | sum (zigzag varint, its nearest multiple of 10^-scale) | sum's bits XOR that
///                    multiple's | mean's bits XOR those of sum / count (varints) | m2 (f64)
///                    | sketch length varint | sketch
/// ```
/// The offsets are the event times of the first and last reading, µs after the window's
/// start. Forms 1–3 are buckets whose every statistic (sketch included) is what adding
/// their one or two readings gives: the encoder checks that bit for bit and otherwise
/// writes form 0, so nothing is lost. Most 10 s buckets of a sensor reporting every few
/// seconds are of this kind: 12–22 bytes instead of about 80. Form 4 is form 0 for values
/// written with a few decimals, as sensors send them: min, max, first and last are whole
/// numbers of hundredths (say), and sum and mean are stored as their distance, in bits, from
/// what those decimals predict, which is exact whatever the distance. Ten readings of a
/// steady sensor take about 35 bytes instead of 71. A bucket's record is
/// self-contained, so a flush copies the records it does not change byte for byte and
/// decodes only the ones it merges into.
package enum ChunkCodec {
    package static let version: UInt8 = 1

    /// How a bucket's record is laid out (the top three bits of its first byte).
    package enum Form: UInt8 {
        case any = 0
        case oneReading = 1
        case firstThenLast = 2
        case lastThenFirst = 3
        case decimal = 4
    }

    /// One bucket as read from a chunk: where its whole record is (for copying it
    /// unchanged), and what it holds, built only when asked: a flush copies most records
    /// of a chunk it rewrites and builds only those it merges into.
    package struct EncodedBucket {
        package var index: Int
        package var windowStart: Int64
        package var record: Range<Int>
        private var content: Content

        private enum Content {
            /// Forms 0 and 4: the values and the sketch's encoding.
            case written(WrittenValues, sketch: UnsafeRawBufferPointer)
            /// Forms 1–3: the readings whose adding, in this order, gives the bucket.
            case readings(AddedReading, AddedReading?)
        }

        /// The statistics forms 0 and 4 write besides the sketch: a bucket carries these,
        /// less than half a ``BucketStats``, until asked for its statistics (a query reads
        /// and moves thousands of buckets).
        fileprivate struct WrittenValues {
            var count: Int64
            var sum, min, max, mean, m2: Double
            var firstTimestamp: Int64
            var first: Double
            var lastTimestamp: Int64
            var last: Double

            func stats(sketch: QuantileSketch) -> BucketStats {
                BucketStats(count: count, sum: sum, min: min, max: max, mean: mean, m2: m2, firstTimestamp: firstTimestamp,
                            first: first, lastTimestamp: lastTimestamp, last: last, sketch: sketch)
            }
        }

        private struct AddedReading {
            var value: Double
            var timestamp: Int64
        }

        fileprivate init(index: Int, windowStart: Int64, record: Range<Int>, values: WrittenValues, sketch: UnsafeRawBufferPointer) {
            (self.index, self.windowStart, self.record) = (index, windowStart, record)
            content = .written(values, sketch: sketch)
        }

        fileprivate init(index: Int, windowStart: Int64, record: Range<Int>, adding first: (Double, Int64), then second: (Double, Int64)?) {
            (self.index, self.windowStart, self.record) = (index, windowStart, record)
            content = .readings(AddedReading(value: first.0, timestamp: first.1), second.map { AddedReading(value: $0.0, timestamp: $0.1) })
        }

        /// The whole bucket. A sketch that does not decode (or none, before sketches
        /// existed) reads as empty: the bucket then gives no percentiles rather than wrong ones.
        package var decoded: BucketStats {
            switch content {
            case .written(let values, let sketch):
                return values.stats(sketch: QuantileSketch(encoded: sketch) ?? .empty)
            case .readings(let first, let second):
                var stats = BucketStats()
                stats.add(first.value, at: first.timestamp)
                if let second { stats.add(second.value, at: second.timestamp) }
                return stats
            }
        }

        /// The bucket's statistics, with its percentiles read from its encoded sketch in
        /// place (forms 0 and 4: the statistics' own sketch is then empty).
        package var statsAndPercentiles: (stats: BucketStats, percentiles: Percentiles?) {
            switch content {
            case .written(let values, let sketch):
                let stats = values.stats(sketch: .empty)
                return (stats, EncodedSketchReader.percentiles(of: sketch, count: stats.count, clampedTo: stats.min...stats.max))
            case .readings:
                let stats = decoded
                return (stats, stats.percentiles)
            }
        }
    }

    /// What is wrong with a chunk's bytes.
    package struct Damage: Error, CustomStringConvertible {
        package let description: String
    }

    /// Walks the buckets of one chunk's bytes, checking each record as it goes.
    package struct Reader {
        private var reader: Varint.Reader
        private let chunkStart: Int64
        private let resolution: Int64
        private var lastIndex = -1

        package init(_ bytes: UnsafeRawBufferPointer, chunkStart: Int64, resolution: Resolution) throws(Damage) {
            guard bytes.first == ChunkCodec.version else {
                throw Damage(description: "chunk of another version (\(bytes.first.map(String.init) ?? "empty"))")
            }
            self.init(records: bytes, offset: 1, chunkStart: chunkStart, resolution: resolution)
        }

        /// Records from `offset` on, without a chunk's version byte before them.
        fileprivate init(records bytes: UnsafeRawBufferPointer, offset: Int, chunkStart: Int64, resolution: Resolution) {
            reader = Varint.Reader(bytes: bytes, offset: offset)
            self.chunkStart = chunkStart
            self.resolution = resolution.microseconds
        }

        /// The next bucket, nil after the last one.
        package mutating func next() throws(Damage) -> EncodedBucket? {
            guard !reader.isAtEnd else { return nil }
            let start = reader.offset
            let head = reader.bytes[start]
            reader.offset += 1
            let index = Int(head & 0x1F)
            guard index > lastIndex else { throw damage("window index \(index) out of order") }
            lastIndex = index
            guard let form = Form(rawValue: head >> 5) else { throw damage("record form \(head >> 5)") }
            let windowStart = chunkStart + Int64(index) * resolution
            switch form {
            case .any, .decimal:
                guard let count = reader.next(), count > 0, count <= UInt64(Int64.max),
                      let firstTimestamp = try nextTimestamp(windowStart), let lastTimestamp = try nextTimestamp(windowStart)
                else { throw damage("bucket header") }
                let (sum, min, max, mean, m2, first, last) = form == .any ? try nextDoubles() : try nextDecimals(count: count)
                guard let sketchLength = reader.next(), sketchLength <= UInt64(reader.bytes.count - reader.offset) else {
                    throw damage("sketch length")
                }
                let sketch = UnsafeRawBufferPointer(rebasing: reader.bytes[reader.offset..<(reader.offset + Int(sketchLength))])
                reader.offset += Int(sketchLength)
                let values = EncodedBucket.WrittenValues(
                    count: Int64(count), sum: sum, min: min, max: max, mean: mean, m2: m2,
                    firstTimestamp: firstTimestamp, first: first, lastTimestamp: lastTimestamp, last: last)
                return EncodedBucket(index: index, windowStart: windowStart, record: start..<reader.offset, values: values, sketch: sketch)
            case .oneReading:
                guard let timestamp = try nextTimestamp(windowStart) else { throw damage("bucket header") }
                try need(8)
                let reading = (try nextFinite(), timestamp)
                return EncodedBucket(index: index, windowStart: windowStart, record: start..<reader.offset, adding: reading, then: nil)
            case .firstThenLast, .lastThenFirst:
                guard let firstTimestamp = try nextTimestamp(windowStart), let lastTimestamp = try nextTimestamp(windowStart) else {
                    throw damage("bucket header")
                }
                try need(16)
                let first = (try nextFinite(), firstTimestamp), last = (try nextFinite(), lastTimestamp)
                return form == .firstThenLast
                    ? EncodedBucket(index: index, windowStart: windowStart, record: start..<reader.offset, adding: first, then: last)
                    : EncodedBucket(index: index, windowStart: windowStart, record: start..<reader.offset, adding: last, then: first)
            }
        }

        /// Sum, min, max, mean, m2, first and last of form 0.
        // Inlined: the seven values stay in registers rather than going through memory.
        @inline(__always)
        private mutating func nextDoubles() throws(Damage) -> (Double, Double, Double, Double, Double, Double, Double) {
            try need(56)
            return (nextDouble(), nextDouble(), nextDouble(), nextDouble(), nextDouble(), nextDouble(), nextDouble())
        }

        /// Sum, min, max, mean, m2, first and last of form 4.
        // Inlined: the seven values stay in registers rather than going through memory.
        @inline(__always)
        private mutating func nextDecimals(count: UInt64) throws(Damage) -> (Double, Double, Double, Double, Double, Double, Double) {
            try need(1)
            let scale = Int(reader.bytes[reader.offset])
            reader.offset += 1
            guard scale < ChunkCodec.units.count else { throw damage("decimal scale \(scale)") }
            let unit = ChunkCodec.units[scale]
            guard let lowest = reader.next(), let toMax = reader.next(), let toFirst = reader.next(), let toLast = reader.next(),
                  let sumUnits = reader.next(), let sumBits = reader.next(), let meanBits = reader.next()
            else { throw damage("decimal values") }
            let min = Varint.unzigzag(lowest)
            func above(_ distance: UInt64) throws(Damage) -> Double {
                let (units, overflow) = min.addingReportingOverflow(Int64(truncatingIfNeeded: distance))
                guard !overflow, distance <= UInt64(Int64.max) else { throw damage("decimal value out of range") }
                return Double(units) / unit
            }
            let sum = Double(bitPattern: (Double(Varint.unzigzag(sumUnits)) / unit).bitPattern ^ sumBits)
            let mean = Double(bitPattern: (sum / Double(count)).bitPattern ^ meanBits)
            try need(8)
            return (sum, Double(min) / unit, try above(toMax), mean, nextDouble(), try above(toFirst), try above(toLast))
        }

        /// An offset within the window, as the event time it stands for.
        private mutating func nextTimestamp(_ windowStart: Int64) throws(Damage) -> Int64? {
            guard let offset = reader.next() else { return nil }
            guard offset < UInt64(resolution) else { throw damage("event time past the window") }
            return windowStart + Int64(offset)
        }

        private func need(_ count: Int) throws(Damage) {
            guard reader.offset + count <= reader.bytes.count else { throw damage("bucket values cut off") }
        }

        /// A reading's value (forms 1–3): finite, as every admitted reading is.
        private mutating func nextFinite() throws(Damage) -> Double {
            let value = nextDouble()
            guard value.isFinite else { throw damage("a value that is not finite") }
            return value
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

    /// The window start of a chunk's first (or last) bucket; nil for an empty chunk.
    package static func edgeWindowStart(of bytes: UnsafeRawBufferPointer, chunkStart: Int64, resolution: Resolution, last: Bool) throws(Damage) -> Int64? {
        var reader = try Reader(bytes, chunkStart: chunkStart, resolution: resolution)
        var edge: Int64?
        while let bucket = try reader.next() {
            edge = bucket.windowStart
            if !last { break }
        }
        return edge
    }

    /// The bucket of the record at `offset` of `bytes`, written by ``append(index:windowStart:stats:to:sketchBytes:)``
    /// with index 0 and this `windowStart`, outside any chunk: how a shard keeps the
    /// pending windows its readings moved past, in a fraction of their stats' memory.
    package static func bucket(ofRecordAt offset: Int, in bytes: UnsafeRawBufferPointer, windowStart: Int64, resolution: Resolution) throws(Damage) -> BucketStats {
        var reader = Reader(records: bytes, offset: offset, chunkStart: windowStart, resolution: resolution)
        guard let bucket = try reader.next(), bucket.index == 0 else { throw Damage(description: "no record at byte \(offset)") }
        return bucket.decoded
    }

    /// Appends the record of one bucket (its window is `windowStart`, at `index`), in the
    /// shortest form that gives back exactly `stats`. `sketchBytes` is a scratch buffer
    /// reused across calls. Without `decimal`, form 4 is not used: for a database that
    /// daemons built before it may read too (PostgreSQL, shared).
    package static func append(
        index: Int, windowStart: Int64, stats: BucketStats, to bytes: inout [UInt8], sketchBytes: inout [UInt8], decimal: Bool
    ) {
        let (form, scale) = layout(of: stats, decimal: decimal)
        let head = bytes.count
        bytes.append(form.rawValue << 5 | UInt8(index))
        switch form {
        case .oneReading:
            Varint.append(UInt64(stats.firstTimestamp - windowStart), to: &bytes)
            appendDouble(stats.first, to: &bytes)
        case .firstThenLast, .lastThenFirst:
            Varint.append(UInt64(stats.firstTimestamp - windowStart), to: &bytes)
            Varint.append(UInt64(stats.lastTimestamp - windowStart), to: &bytes)
            appendDouble(stats.first, to: &bytes)
            appendDouble(stats.last, to: &bytes)
        case .any, .decimal:
            Varint.append(UInt64(stats.count), to: &bytes)
            Varint.append(UInt64(stats.firstTimestamp - windowStart), to: &bytes)
            Varint.append(UInt64(stats.lastTimestamp - windowStart), to: &bytes)
            let values = bytes.count
            if form == .decimal {
                appendDecimals(of: stats, scale: scale, to: &bytes)
                // Longer than form 0's seven doubles only when sum or mean is far, in bits,
                // from what the decimals predict (a rounding across a power of two).
                if bytes.count - values > 56 {
                    bytes.removeSubrange(values...)
                    bytes[head] = Form.any.rawValue << 5 | UInt8(index)
                }
            }
            if bytes.count == values {
                for value in [stats.sum, stats.min, stats.max, stats.mean, stats.m2, stats.first, stats.last] {
                    appendDouble(value, to: &bytes)
                }
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

    /// The form to write `stats` in: one of the reading forms when adding its readings
    /// gives back these very statistics, bit for bit, else ``Form/decimal`` when its values
    /// are decimals of at most six places (written as ``Form/any`` after all in the rare
    /// case that takes fewer bytes), else ``Form/any``.
    package static func shortestForm(of stats: BucketStats) -> Form {
        layout(of: stats, decimal: true).form
    }

    /// ``shortestForm(of:decimal:)``, with the scale of form 4 (0 for the others).
    private static func layout(of stats: BucketStats, decimal: Bool) -> (form: Form, scale: Int) {
        let first = (stats.first, stats.firstTimestamp), last = (stats.last, stats.lastTimestamp)
        switch stats.count {
        case 1:
            if stats.isBuilt(byAdding: first) { return (.oneReading, 0) }
        case 2:
            if stats.isBuilt(byAdding: first, then: last) { return (.firstThenLast, 0) }
            if stats.isBuilt(byAdding: last, then: first) { return (.lastThenFirst, 0) }
        default:
            break
        }
        guard decimal, let scale = decimalScale(of: stats) else { return (.any, 0) }
        return (.decimal, scale)
    }

    /// `units[scale]` is 10^scale: how many units of form 4 make 1.
    static let units: [Double] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000]

    /// The fewest decimals (at most 6) that write min, max, first and last exactly, as
    /// whole numbers of units below 2^53 (so exact as doubles too); nil if none do, or if
    /// the sum is too large for a whole number of units.
    private static func decimalScale(of stats: BucketStats) -> Int? {
        // Max, first and last are written as distances above min.
        guard stats.min <= stats.max, stats.min <= stats.first, stats.min <= stats.last else { return nil }
        for (scale, unit) in units.enumerated() {
            guard abs(stats.sum * unit) < 0x1p62 else { return nil }
            if [stats.min, stats.max, stats.first, stats.last].allSatisfy({ isWhole($0, in: unit) }) { return scale }
        }
        return nil
    }

    /// Whether `value` is a whole number of `1 / unit` below 2^53, bit for bit as the
    /// decoder divides it back (-0 is not: it comes back as 0).
    private static func isWhole(_ value: Double, in unit: Double) -> Bool {
        let units = (value * unit).rounded()
        return abs(units) < 0x1p53 && (Double(Int64(units)) / unit).bitPattern == value.bitPattern
    }

    private static func appendDecimals(of stats: BucketStats, scale: Int, to bytes: inout [UInt8]) {
        let unit = units[scale]
        let min = Int64((stats.min * unit).rounded())
        bytes.append(UInt8(scale))
        Varint.append(Varint.zigzag(min), to: &bytes)
        for value in [stats.max, stats.first, stats.last] {
            Varint.append(UInt64(Int64((value * unit).rounded()) - min), to: &bytes)
        }
        // The sum, to the nearest unit, then the bits that tell it from the exact sum (none
        // mostly; a few low ones when adding rounded).
        let sumUnits = Int64((stats.sum * unit).rounded())
        Varint.append(Varint.zigzag(sumUnits), to: &bytes)
        Varint.append(stats.sum.bitPattern ^ (Double(sumUnits) / unit).bitPattern, to: &bytes)
        Varint.append(stats.mean.bitPattern ^ (stats.sum / Double(stats.count)).bitPattern, to: &bytes)
        appendDouble(stats.m2, to: &bytes)
    }

    @inline(__always)
    private static func appendDouble(_ value: Double, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
