/// Parses a time as users write it on the command line and in query strings: an RFC 3339
/// string (`2025-11-26T14:00:00Z`) or Unix seconds, fractions allowed (`1764165600.25`).
public enum TimeText {
    /// Microseconds since the epoch, or nil when the text is neither form.
    public static func parse(_ text: String) -> Int64? {
        if let micros = RFC3339.parse(text) { return micros }
        guard !text.isEmpty,
              text.utf8.allSatisfy({ ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }),
              let seconds = Double(text), seconds.isFinite,
              abs(seconds) < 253_402_300_800 // year 9999
        else { return nil }
        return Int64((seconds * 1_000_000).rounded())
    }
}
