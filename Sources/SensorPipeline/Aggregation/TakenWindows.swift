internal import SensorCore
internal import SensorStore

/// The seq windows a flush takes from one shard's ingress, each placed beside its series'
/// counts in the shard's drained pending buckets by the series' number; a series with
/// nothing pending keeps its number beside its window, named when the store walks them.
///
/// Why by place, not by key: a list of windows named by their keys, joined to the counts by
/// sorting both, copied every series' key once more and took two orders besides (4.8 MB
/// with 100,000 new series, at the peak of their first flush).
struct TakenWindows: Sendable {
    private(set) var encoded = EncodedWindowList()
    /// By place in the pending series (``PendingBuckets/place(ofNumber:)``): 1 + the index of
    /// its window, 0 for none. Empty until a window of a pending series is taken.
    private var windowOfPlace: [Int32] = []
    /// The windows of series with nothing pending: the window's index, and its series'
    /// number.
    private(set) var alone: [(window: Int, number: Int32)] = []
    /// How many series the pending buckets hold.
    private let pendingSeries: Int

    init(pendingSeries: Int) {
        self.pendingSeries = pendingSeries
    }

    var isEmpty: Bool { encoded.isEmpty }

    mutating func reserveCapacity(_ count: Int) {
        encoded.reserveCapacity(count)
    }

    /// Adds the window of the series numbered `number`; `place` is the series' in the
    /// pending buckets, nil when it has nothing pending. Each series once.
    mutating func add(_ window: SeqWindow, number: Int32, place: Int?) {
        if let place {
            if windowOfPlace.isEmpty { windowOfPlace = Array(repeating: 0, count: pendingSeries) }
            windowOfPlace[place] = Int32(encoded.count + 1)
        } else {
            alone.append((encoded.count, number))
        }
        encoded.append(window)
    }

    /// The window of the pending series at `place`, if one was taken.
    func window(ofPlace place: Int) -> ArraySlice<UInt8>? {
        guard !windowOfPlace.isEmpty, windowOfPlace[place] > 0 else { return nil }
        return encoded[Int(windowOfPlace[place]) - 1]
    }
}
