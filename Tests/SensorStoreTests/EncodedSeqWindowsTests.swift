import SensorCore
@testable import SensorStore
import Testing

/// The seq windows a flush carries, encoded into one buffer: each comes back as it went
/// in, also past the room made for them, and a series' later window wins.
@Suite struct EncodedSeqWindowsTests {
    /// A window that counted `seqs` (in order), one second apart.
    func window(_ seqs: [UInt64]) -> SeqWindow {
        var window = SeqWindow(first: seqs[0], at: 1_000_000)
        for (index, seq) in seqs.enumerated().dropFirst() {
            _ = window.admit(seq, at: 1_000_000 * Int64(index + 1))
        }
        return window
    }

    @Test func windowsComeBackAsTheyWentInAndLaterOnesWin() {
        let a = SeriesKey(device: "a", metric: "m")
        let b = SeriesKey(device: "b", metric: "m")
        let c = SeriesKey(device: "c", metric: "m")
        var first: EncodedSeqWindows = [a: window([1, 2, 3]), b: window([7])]
        // Room for two more of the least size; a restarted sequence encodes a previous one
        // too (56 bytes, not 29).
        first.reserveCapacity(first.count + 2)
        let restarted = window([5_000, 1])
        first.append(restarted, of: c)
        first.append(window([1, 2, 3, 4, 9]), of: a)

        #expect(first.count == 4)
        #expect(first.series == [a, b, c, a])
        let encodings = first.series.indices.map { Array(first.window(at: $0)) }
        #expect(encodings == [window([1, 2, 3]).encoded, window([7]).encoded, restarted.encoded, window([1, 2, 3, 4, 9]).encoded])
        #expect(restarted.encoded.count > window([7]).encoded.count)
        #expect(first.windows == [a: window([1, 2, 3, 4, 9]), b: window([7]), c: restarted])
        #expect(EncodedSeqWindows().isEmpty && EncodedSeqWindows().windows.isEmpty)
    }
}

extension EncodedSeqWindows {
    /// The windows decoded, the latest per series: what a store reading them back takes.
    /// Only the tests need them as a dictionary; the stores write the encodings.
    fileprivate var windows: [SeriesKey: SeqWindow] {
        var windows: [SeriesKey: SeqWindow] = [:]
        for (index, series) in series.enumerated() {
            guard let window = SeqWindow(encoded: Array(window(at: index))) else {
                Issue.record("the window of \(series) does not decode")
                continue
            }
            windows[series] = window
        }
        return windows
    }
}
