internal import SensorCore

/// Durations as written in settings: a whole number followed by a unit, `ms`, `s`, `m`, `h`
/// or `d` (`500ms`, `10s`, `5m`, `2h`, `7d`). Nothing else is accepted: no fractions, no
/// unit-less numbers, no spaces, no compound forms (`1h30m`).
enum DurationText {
    static let accepted = "a whole number followed by ms, s, m, h or d (e.g. 500ms, 10s, 5m, 2h, 7d)"

    private static let units: [(suffix: String, milliseconds: Int64)] = [
        ("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
    ]

    /// Parses `text`; nil when it is not of the accepted form or overflows.
    static func parse(_ text: String) -> Duration? {
        // `units` lists "ms" before "s" and "m", so "500ms" is not read as 500 m-something.
        for (suffix, unit) in units where text.hasSuffix(suffix) {
            guard let count = WholeNumber.parse(text.dropLast(suffix.count)) else { return nil }
            let (total, overflow) = count.multipliedReportingOverflow(by: unit)
            guard !overflow else { return nil }
            return .milliseconds(total)
        }
        return nil
    }

    /// The shortest text that parses back to `duration` (``Duration/shortText``).
    static func format(_ duration: Duration) -> String {
        duration.shortText
    }
}

/// A non-negative whole number in ASCII digits, without sign, spaces or separators.
enum WholeNumber {
    static func parse(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.utf8.count <= 18 else { return nil }
        var value: Int64 = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        return value
    }

    static func parse(_ text: String) -> Int64? { parse(Substring(text)) }
}
