/// The sketch's byte form, as varints (LEB128; keys zigzagged):
///
/// ```
/// sketch  = version (2) | zero count | negative store | positive store
/// store   = header (entries << 1 | form), nothing more when entries is 0
/// dense   (form 0) = first key | count × entries            (every bin of the range)
/// sparse  (form 1) = first key | count | (gap | count) × (entries − 1)   (non-zero bins)
/// ```
/// Each store takes whichever form is shorter: dense for values close together (a bucket
/// within ±10% is about ten adjacent bins, a byte each), sparse for a few values far apart
/// (ten readings spread over [-50, 150] touch ten of ~300 bins). Version 1, written before
/// the sparse form existed, is a dense store with its bin count as the header; it is still
/// read.
extension QuantileSketch {
    static let encodingVersion: UInt8 = 2
    static let denseOnlyVersion: UInt8 = 1

    /// The compact encoding above.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        encode(into: &bytes)
        return bytes
    }

    /// ``encoded`` written over `bytes` (emptied first, capacity kept), so a writer of many
    /// sketches reuses one buffer.
    public func encode(into bytes: inout [UInt8]) {
        bytes.removeAll(keepingCapacity: true)
        // About two bytes a bin, the varints of a key step and a count.
        bytes.reserveCapacity(8 + 2 * (negative.storedWords + positive.storedWords))
        bytes.append(Self.encodingVersion)
        Varint.append(zeroCount, to: &bytes)
        negative.encode(into: &bytes)
        positive.encode(into: &bytes)
    }

    /// Decodes ``encoded`` (either version); nil for another version or damaged bytes.
    public init?(encoded bytes: [UInt8]) {
        guard let sketch = bytes.withUnsafeBytes({ QuantileSketch(encoded: $0) }) else { return nil }
        self = sketch
    }

    /// Decodes ``encoded`` from memory it does not keep (an SQLite column, without a copy).
    public init?(encoded bytes: UnsafeRawBufferPointer) {
        guard let layout = EncodedSketch(bytes) else { return nil }
        guard let negative = layout.negative.decoded(from: bytes),
              let positive = layout.positive.decoded(from: bytes)
        else { return nil }
        self.negative = negative
        self.positive = positive
        zeroCount = layout.zeroCount
    }
}

extension BinStore {
    /// This store in the shorter of the two forms (see ``QuantileSketch``'s encoding),
    /// whichever form it has in memory.
    func encode(into bytes: inout [UInt8]) {
        // The non-zero bins decide: a dense encoding spans the first to the last of them.
        var nonZero = 0
        var gapsLength = 0
        var first: Int32 = 0
        var last: Int32 = 0
        forEachBin { key, _ in
            if nonZero == 0 { first = key } else { gapsLength += Varint.length(of: UInt64(key - last)) }
            nonZero += 1
            last = key
        }
        guard nonZero > 0 else {
            bytes.append(0)
            return
        }
        let span = Int(last - first) + 1
        // Both forms write every count; sparse adds the gaps, dense a zero byte per empty bin.
        if gapsLength < span - nonZero {
            Varint.append(UInt64(nonZero) << 1 | 1, to: &bytes)
            Varint.append(Varint.zigzag(Int64(first)), to: &bytes)
            var previous = first
            forEachBin { key, count in
                if key != first { Varint.append(UInt64(key - previous), to: &bytes) }
                Varint.append(count, to: &bytes)
                previous = key
            }
        } else {
            Varint.append(UInt64(span) << 1, to: &bytes)
            Varint.append(Varint.zigzag(Int64(first)), to: &bytes)
            var next = first
            forEachBin { key, count in
                // The empty bins up to this one, then its count.
                for _ in next..<key { bytes.append(0) }
                Varint.append(count, to: &bytes)
                next = key + 1
            }
        }
    }
}

/// Where the parts of an encoded sketch lie, every check of the decoder done: what both
/// the decoder and ``EncodedSketchReader`` (which reads percentiles in place) start from.
struct EncodedSketch {
    var zeroCount: UInt64
    var negative: EncodedBinStore
    var positive: EncodedBinStore

    /// Nil for another version, damaged bytes, trailing bytes, or more values than a
    /// bucket counts (Int64), so neither `count` nor a merge with fresh readings overflows.
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard let version = bytes.first,
              version == QuantileSketch.encodingVersion || version == QuantileSketch.denseOnlyVersion
        else { return nil }
        var reader = Varint.Reader(bytes: bytes, offset: 1)
        guard let zeros = reader.next(),
              let negative = EncodedBinStore(reading: &reader, version: version),
              let positive = EncodedBinStore(reading: &reader, version: version),
              reader.isAtEnd
        else { return nil }
        let limit = UInt64(Int64.max)
        guard zeros <= limit, negative.total <= limit - zeros, positive.total <= limit - zeros - negative.total else {
            return nil
        }
        zeroCount = zeros
        self.negative = negative
        self.positive = positive
    }

    var count: UInt64 { zeroCount + negative.total + positive.total }
}

/// One bin store of an encoded sketch, located and checked but not built.
struct EncodedBinStore {
    private var sparse = false
    /// Bins (dense) or non-zero bins (sparse).
    private var entries = 0
    private var firstKey: Int32 = 0
    private(set) var lastKey: Int32 = 0
    /// Where the first count is.
    private var start = 0
    private(set) var total: UInt64 = 0

    /// Keys of finite magnitudes only (about ±37 000): the store's Int32 arithmetic (merge,
    /// add) relies on it.
    private static let keys = Int64(QuantileSketch.key(of: .leastNonzeroMagnitude))...Int64(QuantileSketch.key(of: .greatestFiniteMagnitude))

    /// Reads one store's bytes, checking that its keys are finite ones, ascending and
    /// within ``QuantileSketch/maxBins`` of each other, and that its counts do not overflow.
    init?(reading reader: inout Varint.Reader, version: UInt8) {
        guard let header = reader.next() else { return nil }
        let entries = version == QuantileSketch.denseOnlyVersion ? header : header >> 1
        sparse = version != QuantileSketch.denseOnlyVersion && header & 1 == 1
        guard entries <= UInt64(QuantileSketch.maxBins) else { return nil }
        self.entries = Int(entries)
        guard entries > 0 else {
            // An empty store is written as a single 0.
            if sparse { return nil }
            return
        }
        guard let zigzagged = reader.next() else { return nil }
        var key = Varint.unzigzag(zigzagged)
        guard Self.keys.contains(key) else { return nil }
        firstKey = Int32(key)
        start = reader.offset
        for entry in 0..<self.entries {
            if sparse, entry > 0 {
                guard let gap = reader.next(), gap > 0, gap < UInt64(QuantileSketch.maxBins) else { return nil }
                key += Int64(gap)
            } else if entry > 0 {
                key += 1
            }
            guard let count = reader.next(), !sparse || count > 0 else { return nil }
            let (sum, overflow) = total.addingReportingOverflow(count)
            guard !overflow else { return nil }
            total = sum
        }
        guard key <= Self.keys.upperBound, key - Int64(firstKey) < Int64(QuantileSketch.maxBins) else { return nil }
        lastKey = Int32(key)
    }

    /// The store itself, its bytes being `bytes`. Empty bins at either end (which only a
    /// dense store can hold) are left out, as a store built by adding values has none, so
    /// decoding and encoding again gives the same sketch.
    /// A store of at most ``BinStore/sparseLimit`` non-zero bins is built sparse, as adding
    /// its values would have built it.
    func decoded(from bytes: UnsafeRawBufferPointer) -> BinStore? {
        var low: Int32?
        var high: Int32 = 0
        var nonZero = SparseBins()
        nonZero.reserveCapacity(Swift.min(entries, BinStore.sparseLimit + 1))
        for (key, count) in bins(in: bytes) where count > 0 {
            if low == nil { low = key }
            high = key
            if nonZero.count <= BinStore.sparseLimit { nonZero.append(BinStore.SparseBin(key: key, count: count)) }
        }
        guard let low else { return BinStore() }
        if nonZero.count <= BinStore.sparseLimit { return BinStore(sparse: nonZero, total: total) }
        var counts = [UInt64](repeating: 0, count: Int(high - low) + 1)
        for (key, count) in bins(in: bytes) where key >= low && key <= high { counts[Int(key - low)] = count }
        return BinStore(offset: low, counts: counts)
    }

    /// The store's bins in ascending key order, each with its count, read in place.
    func bins(in bytes: UnsafeRawBufferPointer) -> Bins {
        Bins(reader: Varint.Reader(bytes: bytes, offset: start), remaining: entries, key: firstKey, sparse: sparse)
    }

    /// ``SketchRanks/keys(atRanks:bins:lastKey:)`` over the encoded bins.
    func keys(atRanks ranks: SIMD4<UInt64>, in bytes: UnsafeRawBufferPointer) -> SIMD4<Int32> {
        SketchRanks.keys(atRanks: ranks, bins: bins(in: bytes), lastKey: lastKey)
    }

    struct Bins: Sequence, IteratorProtocol {
        var reader: Varint.Reader
        var remaining: Int
        var key: Int32
        let sparse: Bool
        var started = false

        // The bytes were checked when the store was read: every varint is there.
        mutating func next() -> (key: Int32, count: UInt64)? {
            guard remaining > 0 else { return nil }
            remaining -= 1
            if started {
                key += sparse ? Int32(truncatingIfNeeded: reader.next() ?? 0) : 1
            }
            started = true
            return (key, reader.next() ?? 0)
        }
    }
}
