/// Sizes as written in settings: a whole number of bytes, optionally followed by a binary
/// unit `KiB`, `MiB`, `GiB` (powers of 1024) or a decimal one `kB`, `MB`, `GB` (powers of
/// 1000), or `B`: `512`, `64KiB`, `8MiB`, `1GiB`, `10MB`. Units are case-sensitive.
enum ByteSize {
    static let accepted = "a whole number of bytes, optionally followed by KiB, MiB, GiB, kB, MB or GB (e.g. 512, 64KiB, 8MiB)"

    private static let units: [(suffix: String, bytes: Int64)] = [
        ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10),
        ("GB", 1_000_000_000), ("MB", 1_000_000), ("kB", 1_000),
        ("B", 1),
    ]

    /// Parses `text`; nil when it is not of the accepted form or overflows.
    static func parse(_ text: String) -> Int? {
        var number = Substring(text)
        var unit: Int64 = 1
        for (suffix, bytes) in units where text.hasSuffix(suffix) {
            number = number.dropLast(suffix.count)
            unit = bytes
            break
        }
        guard let count = WholeNumber.parse(number) else { return nil }
        let (total, overflow) = count.multipliedReportingOverflow(by: unit)
        guard !overflow, let result = Int(exactly: total) else { return nil }
        return result
    }

    /// The shortest exact text for `bytes` (`8MiB`, `10MB`, `1500`).
    static func format(_ bytes: Int) -> String {
        let value = Int64(bytes)
        for (suffix, unit) in units where unit > 1 && value != 0 && value % unit == 0 {
            return "\(value / unit)\(suffix)"
        }
        return "\(bytes)"
    }
}
