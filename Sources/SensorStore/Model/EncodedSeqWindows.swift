public import SensorCore

/// Seq windows for a flush to store with the series named (``FlushBatch/seqWindows``),
/// each already encoded; a series added twice keeps its later window.
public struct EncodedSeqWindows: Sendable, ExpressibleByDictionaryLiteral {
    /// The series, in the order their windows were added.
    public private(set) var series: [SeriesKey] = []
    private var windows = EncodedWindowList()

    public init() {}

    public init(dictionaryLiteral elements: (SeriesKey, SeqWindow)...) {
        for (series, window) in elements { append(window, of: series) }
    }

    public var isEmpty: Bool { series.isEmpty }
    public var count: Int { series.count }

    /// Makes room for `count` windows (``EncodedWindowList/reserveCapacity(_:)``).
    public mutating func reserveCapacity(_ count: Int) {
        series.reserveCapacity(count)
        windows.reserveCapacity(count)
    }

    public mutating func append(_ window: SeqWindow, of series: SeriesKey) {
        windows.append(window)
        self.series.append(series)
    }

    /// The encoding of the window of `series[index]`.
    public func window(at index: Int) -> ArraySlice<UInt8> {
        windows[index]
    }
}

/// Seq windows encoded (``SeqWindow/encode(into:)``) into one shared buffer, in the order
/// they were added.
///
/// Why not a list or dictionary of windows: with 100,000 series that send seqs, a flush
/// carried 100,000 windows of ~310 bytes, and merging the shards' dictionaries held them
/// twice while the storage grew: 180 MB at the peak of that run in heaptrack. Encoded,
/// they are 29 bytes each in one buffer for devices counting up in order (155 with seqs
/// out of order), which is what the store writes anyway.
public struct EncodedWindowList: Sendable {
    /// `bytes[ends[i - 1]..<ends[i]]` is window `i` (4 bytes an end: a flush's windows
    /// take far less than 4 GB).
    private var ends: [UInt32] = []
    private var bytes: [UInt8] = []

    public init() {}

    public var count: Int { ends.count }
    public var isEmpty: Bool { ends.isEmpty }

    /// Makes room for `count` windows, each of the fewest bytes a window takes (most do:
    /// devices counting up in order); larger ones make the bytes grow.
    public mutating func reserveCapacity(_ count: Int) {
        ends.reserveCapacity(count)
        bytes.reserveCapacity(count * SeqWindow.leastEncodedCount)
    }

    public mutating func append(_ window: SeqWindow) {
        window.encode(into: &bytes)
        ends.append(UInt32(bytes.count))
    }

    /// The encoding of window `index`.
    public subscript(index: Int) -> ArraySlice<UInt8> {
        bytes[(index == 0 ? 0 : Int(ends[index - 1]))..<Int(ends[index])]
    }
}
