extension Array {
    /// Makes `number` (a ``SeriesSlot/index``) a valid index, filling new places with
    /// `empty`: grown by at least half, as an array grows, not one series at a time.
    @inline(__always)
    mutating func makeRoom(for number: Int32, filling empty: Element) {
        let index = Int(number)
        guard index >= count else { return }
        append(contentsOf: repeatElement(empty, count: Swift.max(index + 1 - count, count / 2)))
    }
}

extension Array<Int32> {
    /// In a list by series number holding 1 + a place, 0 for none: the place of series
    /// `number`, nil when it has none.
    @inline(__always)
    func place(ofNumber number: Int32) -> Int? {
        let index = Int(number)
        return index < count && self[index] > 0 ? Int(self[index]) - 1 : nil
    }
}
