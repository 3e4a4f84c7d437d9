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
