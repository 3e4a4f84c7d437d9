/// The non-zero bins of a sparse ``BinStore``, ascending by key: the first two in place
/// (counts up to `UInt32.max`); from the third, all of them on the heap, one 8-byte word
/// each (two once a count passes `UInt32.max`).
///
/// Most buckets are small: at a fleet's usual rates a 10 s bucket holds one or two
/// readings, so its sketch holds one or two bins. Kept in an array, each such bucket cost
/// an allocation, and every copy of it (a flush copies a bucket several times on its way
/// to the store) an atomic retain and release. In place, both cost nothing.
///
/// On the heap a bin is its key and its count packed in one word: the bins of the
/// buckets waiting for a flush were half of a busy shard's memory at 16 bytes each
/// (`BinStore.SparseBin`'s stride). A count past `UInt32.max` does not fit, and moves
/// every bin to two words, key then count, for good.
struct SparseBins: Sendable {
    /// How many bins are kept in place before they move to the heap.
    static let inlineCapacity = 2

    /// Where the bins are: in place, or on the heap in one or two words each.
    private enum Form: UInt8 {
        case inline, packed, wide
    }

    // Laid out so that a store's fields fill this one's tail (``BinStore``): a bucket then
    // takes 184 bytes, with up to two bins of each sign in place.
    /// Every bin, once there were more than fit in place or a count past `UInt32.max`
    /// (then never back in place): one word per bin (`packed`), two past that (`wide`).
    private var words: [UInt64] = []
    private var keys: (Int32, Int32) = (0, 0)
    private var counts: (UInt32, UInt32) = (0, 0)
    /// Bins held in place; unused once `words` holds them all.
    private var inlineCount: Int8 = 0
    private var form = Form.inline

    init() {}

    /// Room for `minimumCapacity` bins without another allocation; moves the bins to the
    /// heap when that is more than fit in place. On the heap, as `Array.reserveCapacity`
    /// (which also gives shared storage a copy of its own).
    mutating func reserveCapacity(_ minimumCapacity: Int) {
        switch form {
        case .inline where minimumCapacity > Self.inlineCapacity: spill(capacity: minimumCapacity, wide: false)
        case .inline: break
        case .packed: words.reserveCapacity(minimumCapacity)
        case .wide: words.reserveCapacity(2 * minimumCapacity)
        }
    }

    /// 8-byte words the bins take on the heap (none while in place).
    var heapWords: Int { words.count }

    /// How many bins fit without another allocation, while no count passes `UInt32.max`
    /// (which moves packed bins to two words each).
    var capacity: Int {
        switch form {
        case .inline: Self.inlineCapacity
        case .packed: words.capacity
        case .wide: words.capacity / 2
        }
    }

    mutating func append(_ bin: BinStore.SparseBin) {
        insert(bin, at: count)
    }

    /// Inserts `bin` before the bin at `index` (the caller keeps the keys ascending).
    mutating func insert(_ bin: BinStore.SparseBin, at index: Int) {
        precondition(index >= 0 && index <= count, "SparseBins index out of range")
        if form == .inline && count == Self.inlineCapacity { spill(capacity: 2 * Self.inlineCapacity, wide: false) }
        makeRoom(forCount: bin.count)
        switch form {
        case .inline:
            if index == 0 && inlineCount == 1 {
                (keys.1, counts.1) = (keys.0, counts.0)
            }
            inlineCount += 1
            setInline(bin, at: index)
        case .packed:
            words.insert(Self.packed(bin), at: index)
        case .wide:
            words.insert(bin.count, at: 2 * index)
            words.insert(Self.keyWord(bin.key), at: 2 * index)
        }
    }

    /// Leaves the forms that cannot hold `count`: in place and packed, counts up to
    /// `UInt32.max`.
    @inline(__always)
    private mutating func makeRoom(forCount count: UInt64) {
        guard count > UInt32.max else { return }
        switch form {
        case .inline: spill(capacity: 2 * Self.inlineCapacity, wide: true)
        case .packed: widen()
        case .wide: break
        }
    }

    private mutating func setInline(_ bin: BinStore.SparseBin, at index: Int) {
        if index == 0 { (keys.0, counts.0) = (bin.key, UInt32(bin.count)) } else { (keys.1, counts.1) = (bin.key, UInt32(bin.count)) }
    }

    /// Moves the bins in place to the heap, with room for `capacity` of them.
    private mutating func spill(capacity: Int, wide: Bool) {
        words.reserveCapacity(wide ? 2 * capacity : capacity)
        for index in 0..<Int(inlineCount) {
            let bin = self[index]
            if wide {
                words.append(Self.keyWord(bin.key))
                words.append(bin.count)
            } else {
                words.append(Self.packed(bin))
            }
        }
        form = wide ? .wide : .packed
        inlineCount = 0
    }

    /// Moves packed bins to two words each, before a count that needs more than 32 bits.
    private mutating func widen() {
        let bins = Array(self)
        let room = Swift.max(bins.count + 1, words.capacity)
        words = []
        words.reserveCapacity(2 * room)
        form = .wide
        for bin in bins { append(bin) }
    }

    @inline(__always)
    private static func packed(_ bin: BinStore.SparseBin) -> UInt64 {
        keyWord(bin.key) << 32 | bin.count
    }

    /// A key's 32 bits in the low half of a word (the high half of a packed one).
    @inline(__always)
    private static func keyWord(_ key: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: key))
    }
}

extension SparseBins: RandomAccessCollection, MutableCollection {
    var startIndex: Int { 0 }
    var endIndex: Int {
        switch form {
        case .inline: Int(inlineCount)
        case .packed: words.count
        case .wide: words.count / 2
        }
    }
    /// A plain range: the default indices would hold a copy of the bins.
    var indices: Range<Int> { startIndex..<endIndex }

    subscript(index: Int) -> BinStore.SparseBin {
        get {
            switch form {
            case .packed:
                let word = words[index]
                return BinStore.SparseBin(key: Int32(bitPattern: UInt32(truncatingIfNeeded: word >> 32)), count: word & 0xFFFF_FFFF)
            case .wide:
                return BinStore.SparseBin(key: Int32(bitPattern: UInt32(truncatingIfNeeded: words[2 * index])), count: words[2 * index + 1])
            case .inline:
                precondition(index >= 0 && index < Int(inlineCount), "SparseBins index out of range")
                return index == 0 ? BinStore.SparseBin(key: keys.0, count: UInt64(counts.0)) : BinStore.SparseBin(key: keys.1, count: UInt64(counts.1))
            }
        }
        set {
            makeRoom(forCount: newValue.count)
            switch form {
            case .packed:
                words[index] = Self.packed(newValue)
            case .wide:
                precondition(index >= 0 && index < count, "SparseBins index out of range")
                words[2 * index] = Self.keyWord(newValue.key)
                words[2 * index + 1] = newValue.count
            case .inline:
                precondition(index >= 0 && index < Int(inlineCount), "SparseBins index out of range")
                setInline(newValue, at: index)
            }
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
