/// The non-zero bins of a sparse ``BinStore``, ascending by key: the first two in place
/// (counts up to `UInt32.max`), on the heap only from the third.
///
/// Most buckets are small: at a fleet's usual rates a 10 s bucket holds one or two
/// readings, so its sketch holds one or two bins. Kept in an array, each such bucket cost
/// an allocation, and every copy of it (a flush copies a bucket several times on its way
/// to the store) an atomic retain and release. In place, both cost nothing.
struct SparseBins: Sendable {
    /// How many bins are kept in place before they move to the heap.
    static let inlineCapacity = 2

    // Laid out so that a store's fields fill this one's tail (``BinStore``): a bucket then
    // takes 184 bytes, with up to two bins of each sign in place.
    /// Every bin, once there were more than fit in place or a count past `UInt32.max`
    /// (then never back in place).
    private var spilled: [BinStore.SparseBin] = []
    private var keys: (Int32, Int32) = (0, 0)
    private var counts: (UInt32, UInt32) = (0, 0)
    /// Bins held in place; unused once `spilled` holds them all.
    private var inlineCount: Int8 = 0
    private var isSpilled = false

    init() {}

    /// Room for `minimumCapacity` bins without another allocation; moves the bins to the
    /// heap when that is more than fit in place. On the heap, as `Array.reserveCapacity`
    /// (which also gives shared storage a copy of its own).
    mutating func reserveCapacity(_ minimumCapacity: Int) {
        if isSpilled {
            spilled.reserveCapacity(minimumCapacity)
        } else if minimumCapacity > Self.inlineCapacity {
            spill(capacity: minimumCapacity)
        }
    }

    /// 8-byte words the bins take on the heap (none while in place).
    var heapWords: Int { isSpilled ? 2 * spilled.count : 0 }

    /// How many bins fit without another allocation.
    var capacity: Int { isSpilled ? spilled.capacity : Self.inlineCapacity }

    mutating func append(_ bin: BinStore.SparseBin) {
        insert(bin, at: count)
    }

    /// Inserts `bin` before the bin at `index` (the caller keeps the keys ascending).
    mutating func insert(_ bin: BinStore.SparseBin, at index: Int) {
        precondition(index >= 0 && index <= count, "SparseBins index out of range")
        if !isSpilled && (count == Self.inlineCapacity || bin.count > UInt32.max) { spill(capacity: 2 * Self.inlineCapacity) }
        if isSpilled {
            spilled.insert(bin, at: index)
            return
        }
        if index == 0 && inlineCount == 1 {
            (keys.1, counts.1) = (keys.0, counts.0)
        }
        inlineCount += 1
        setInline(bin, at: index)
    }

    private mutating func setInline(_ bin: BinStore.SparseBin, at index: Int) {
        if index == 0 { (keys.0, counts.0) = (bin.key, UInt32(bin.count)) } else { (keys.1, counts.1) = (bin.key, UInt32(bin.count)) }
    }

    private mutating func spill(capacity: Int) {
        var bins: [BinStore.SparseBin] = []
        bins.reserveCapacity(capacity)
        bins.append(contentsOf: self)
        spilled = bins
        isSpilled = true
        inlineCount = 0
    }
}

extension SparseBins: RandomAccessCollection, MutableCollection {
    var startIndex: Int { 0 }
    var endIndex: Int { isSpilled ? spilled.count : Int(inlineCount) }
    /// A plain range: the default indices would hold a copy of the bins.
    var indices: Range<Int> { startIndex..<endIndex }

    subscript(index: Int) -> BinStore.SparseBin {
        get {
            if isSpilled { return spilled[index] }
            precondition(index >= 0 && index < Int(inlineCount), "SparseBins index out of range")
            return index == 0 ? BinStore.SparseBin(key: keys.0, count: UInt64(counts.0)) : BinStore.SparseBin(key: keys.1, count: UInt64(counts.1))
        }
        set {
            if !isSpilled && newValue.count > UInt32.max { spill(capacity: 2 * Self.inlineCapacity) }
            if isSpilled {
                spilled[index] = newValue
                return
            }
            precondition(index >= 0 && index < Int(inlineCount), "SparseBins index out of range")
            setInline(newValue, at: index)
        }
    }
}

extension SparseBins: Equatable {
    /// Equal when they hold the same bins, in place or not. By index: a chunk compares
    /// sketches for every short record it writes, and the generic `elementsEqual` made
    /// iterators and slices for it.
    static func == (lhs: SparseBins, rhs: SparseBins) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for index in lhs.indices where lhs[index] != rhs[index] { return false }
        return true
    }
}
