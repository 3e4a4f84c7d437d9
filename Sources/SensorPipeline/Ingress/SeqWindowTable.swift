internal import SensorCore

/// A shard's seq windows, found by series number (``SeriesSlot/index``), each changed in
/// place where it lives.
///
/// The windows sit side by side in one list (in pages, ``PagedArray``: growing it never
/// holds two copies), and a list by number says where: 57 bytes a series that sends seqs,
/// 4 one that does not. A box per series (its window, its key and
/// a flag, plus the object's header and the allocator's) took 120: 12 MB for 100,000
/// series. The key is not kept: a flush finds each window's counts by the same number,
/// and the registry names the few series that have none (``SeriesRegistry/key(of:)``).
struct SeqWindowTable {
    /// By series number: 1 + the place of its window in `windows`, 0 for none.
    private var places: [Int32] = []
    private var windows = PagedArray<SeqWindow>()
    /// By place: the series number, and whether the window changed since a flush took it.
    private var numbers: [Int32] = []
    private var changed: [Bool] = []

    /// What one admission did to the table: what ``undo(_:of:)`` puts back.
    enum Change {
        case created
        case replaced(SeqWindow)
    }

    /// How many windows changed since a flush last took them.
    var changedCount: Int { changed.count { $0 } }

    /// Records `seq`, stamped `timestamp`, in the window of series `number`, creating it
    /// for the series' first seq; nil when it is a duplicate (nothing changes).
    @inline(__always)
    mutating func admit(_ seq: UInt64, at timestamp: Int64, of number: Int32) -> Change? {
        guard let place = places.place(ofNumber: number) else {
            create(SeqWindow(first: seq, at: timestamp), of: number, changed: true)
            return .created
        }
        let before = windows[place]
        guard windows[place].admit(seq, at: timestamp) else { return nil }
        // Left marked after a roll-back: storing an unchanged window is harmless.
        changed[place] = true
        return .replaced(before)
    }

    /// Records a seq replayed from the journal (recovery): never judged, a seq the window
    /// holds already leaves it as it is.
    mutating func record(_ seq: UInt64, at timestamp: Int64, of number: Int32) {
        if let place = places.place(ofNumber: number) {
            windows[place].admit(seq, at: timestamp)
            changed[place] = true
        } else {
            create(SeqWindow(first: seq, at: timestamp), of: number, changed: true)
        }
    }

    /// Adds the window of a series that has none, as stored (recovery).
    mutating func restore(_ window: SeqWindow, of number: Int32) {
        create(window, of: number, changed: false)
    }

    /// Undoes one change of series `number`'s window. Changes are undone newest first, so
    /// a window created is the last of the list.
    mutating func undo(_ change: Change, of number: Int32) {
        guard let place = places.place(ofNumber: number) else { return }
        switch change {
        case .created:
            precondition(place == windows.count - 1, "windows created are undone newest first")
            places[Int(number)] = 0
            windows.removeLast()
            numbers.removeLast()
            changed.removeLast()
        case .replaced(let window):
            windows[place] = window
        }
    }

    /// Calls `take` with every window changed since the last call, and its series' number,
    /// and marks them no longer changed.
    mutating func takeChanged(_ take: (SeqWindow, Int32) -> Void) {
        for place in windows.indices where changed[place] {
            take(windows[place], numbers[place])
            changed[place] = false
        }
    }

    private mutating func create(_ window: SeqWindow, of number: Int32, changed isChanged: Bool) {
        places.makeRoom(for: number, filling: 0)
        places[Int(number)] = Int32(windows.count + 1)
        windows.append(window)
        numbers.append(number)
        changed.append(isChanged)
    }
}
