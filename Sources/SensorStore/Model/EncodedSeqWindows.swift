public import SensorCore

/// The seq windows one flush stores (``FlushBatch/seqWindows``), each already encoded
/// (``SeqWindow/encode(into:)``) into one shared buffer, in the order they were added; a
/// series added twice keeps its later window.
///
/// Why not a dictionary of windows: with 100,000 series that send seqs, a flush carried
/// 100,000 windows of ~310 bytes, and merging the shards' dictionaries held them twice
/// while the storage grew: 180 MB at the peak of that run in heaptrack. Encoded, they are
/// 29 bytes each in one buffer for devices counting up in order (155 with seqs out of
/// order), which is what the store writes anyway.
public struct EncodedSeqWindows: Sendable, ExpressibleByDictionaryLiteral {
    /// The series, in the order their windows were added.
    public private(set) var series: [SeriesKey] = []
    /// `bytes[ends[i - 1]..<ends[i]]` is the window of `series[i]`.
    private var ends: [Int] = []
    private var bytes: [UInt8] = []

    public init() {}

    public init(dictionaryLiteral elements: (SeriesKey, SeqWindow)...) {
        for (series, window) in elements { append(window, of: series) }
    }

    public var isEmpty: Bool { series.isEmpty }
    public var count: Int { series.count }

    /// Makes room for `count` windows, each of the fewest bytes a window takes (most do:
    /// devices counting up in order); larger ones make the bytes grow.
    public mutating func reserveCapacity(_ count: Int) {
        series.reserveCapacity(count)
        ends.reserveCapacity(count)
        bytes.reserveCapacity(count * SeqWindow.leastEncodedCount)
    }

    public mutating func append(_ window: SeqWindow, of series: SeriesKey) {
        window.encode(into: &bytes)
        self.series.append(series)
        ends.append(bytes.count)
    }

    /// The encoding of the window of `series[index]`.
    public func window(at index: Int) -> ArraySlice<UInt8> {
        bytes[(index == 0 ? 0 : ends[index - 1])..<ends[index]]
    }
}
