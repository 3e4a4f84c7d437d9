import Testing
@testable import SensorCore

/// `SparseBins` keeps its first bins in place and the rest on the heap: every operation
/// must read as the same operation on an array would, on either side of that move.
struct SparseBinsTests {
    private func bin(_ key: Int32, _ count: UInt64) -> BinStore.SparseBin {
        BinStore.SparseBin(key: key, count: count)
    }

    @Test func insertsSetsAndReadsLikeAnArray() {
        var generator = SeededGenerator(seed: 0x5BA2)
        for trial in 0..<500 {
            var bins = SparseBins()
            var model: [BinStore.SparseBin] = []
            for step in 0..<Int.random(in: 1...8, using: &generator) {
                let index = Int.random(in: 0...model.count, using: &generator)
                // Mostly counts that fit in 32 bits, near the edge often, past it now and then.
                let count = switch Int.random(in: 0..<8, using: &generator) {
                case 0: UInt64.random(in: 1...UInt64.max, using: &generator)
                case 1, 2: UInt64(UInt32.max) - UInt64.random(in: 0...10, using: &generator)
                default: UInt64.random(in: 1...1_000, using: &generator)
                }
                let new = bin(Int32.random(in: -1_000...1_000, using: &generator), count)
                bins.insert(new, at: index)
                model.insert(new, at: index)
                if !model.isEmpty, Bool.random(using: &generator) {
                    let changed = Int.random(in: 0..<model.count, using: &generator)
                    bins[changed].count &+= 7
                    model[changed].count &+= 7
                }
                #expect(Array(bins) == model, "trial \(trial), step \(step)")
                #expect(bins.count == model.count && bins.first == model.first && bins.last == model.last)
            }
        }
    }

    @Test func bothPlacesHoldingTheSameBinsAreEqual() {
        var inPlace = SparseBins()
        inPlace.append(bin(1, 1))
        inPlace.append(bin(5, 2))
        var onHeap = SparseBins()
        onHeap.reserveCapacity(8)
        onHeap.append(bin(1, 1))
        onHeap.append(bin(5, 2))
        #expect(inPlace == onHeap)
        #expect(inPlace.heapWords == 0 && onHeap.heapWords == 2)
        onHeap[1].count = 3
        #expect(inPlace != onHeap)
    }

    @Test func aCountPastUInt32MovesTheBinsToTheHeapIntact() {
        var bins = SparseBins()
        bins.append(bin(1, 1))
        bins.append(bin(2, UInt64(UInt32.max)))
        #expect(bins.heapWords == 0)
        bins[1].count += 1
        #expect(Array(bins) == [bin(1, 1), bin(2, UInt64(UInt32.max) + 1)] && bins.heapWords == 4)
        var big = SparseBins()
        big.insert(bin(3, 1 << 40), at: 0)
        #expect(Array(big) == [bin(3, 1 << 40)] && big.heapWords == 2)
    }

    /// On the heap a bin takes one word while its count fits in 32 bits, and every bin
    /// moves to two words once one does not, by insert or by a count grown in place.
    @Test func packedBinsWidenIntactForACountPastUInt32() {
        let keys: [Int32] = [-2_000_000_000, -5, 0, 7, 2_000_000_000]
        var grown = SparseBins()
        for key in keys { grown.append(bin(key, UInt64(UInt32.max))) }
        #expect(grown.heapWords == keys.count)
        grown[2].count += 1
        #expect(Array(grown) == keys.map { bin($0, $0 == 0 ? UInt64(UInt32.max) + 1 : UInt64(UInt32.max)) })
        #expect(grown.heapWords == 2 * keys.count)

        var inserted = SparseBins()
        for key in keys.dropLast() { inserted.append(bin(key, 1)) }
        inserted.insert(bin(1, 1 << 40), at: 3)
        #expect(Array(inserted) == [bin(keys[0], 1), bin(-5, 1), bin(0, 1), bin(1, 1 << 40), bin(7, 1)])
        inserted.append(bin(9, 2))
        #expect(inserted.last == bin(9, 2) && inserted.heapWords == 12)
    }

    /// Pending buckets are most of a shard's memory: the bins in place must not make a
    /// bucket larger than the 152 bytes plus one heap allocation (64) it took before.
    @Test func aBucketTakesAtMost184Bytes() {
        #expect(MemoryLayout<BucketStats>.size <= 184, "\(MemoryLayout<BucketStats>.size) bytes")
    }

    @Test func aCopyIsIndependentOnEitherSide() {
        var original = SparseBins()
        original.append(bin(1, 1))
        var copy = original
        copy[0].count = 9
        #expect(original[0].count == 1)
        for key in 2...4 { original.append(bin(Int32(key), 1)) }
        copy = original
        copy[3].count = 9
        #expect(original[3].count == 1 && copy[3].count == 9)
    }
}
