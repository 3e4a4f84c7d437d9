/// A window length in whole seconds, written `<count><unit>` with unit `s`, `m`, `h` or
/// `d` (`10s`, `1m`, `5m`, `1h`, `1d`). Stored resolutions, query windows and steps all
/// use it; windows are aligned to the Unix epoch and half-open: `[k·w, (k+1)·w)`.
public struct Resolution: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Length in seconds, always > 0.
    public let seconds: Int64

    public init?(seconds: Int64) {
        guard seconds > 0 else { return nil }
        self.seconds = seconds
    }

    /// Parses `10s`, `1m`, `1h`, `1d` and other whole multiples of those units.
    /// - Throws: ``ResolutionError`` naming the text and the accepted form.
    public init(parsing text: String) throws(ResolutionError) {
        let utf8 = Array(text.utf8)
        guard let unitByte = utf8.last, utf8.count >= 2 else { throw ResolutionError(text: text) }
        let unit: Int64
        switch unitByte {
        case UInt8(ascii: "s"): unit = 1
        case UInt8(ascii: "m"): unit = 60
        case UInt8(ascii: "h"): unit = 3_600
        case UInt8(ascii: "d"): unit = 86_400
        default: throw ResolutionError(text: text)
        }
        var count: Int64 = 0
        for byte in utf8.dropLast() {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { throw ResolutionError(text: text) }
            let (times10, o1) = count.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw ResolutionError(text: text) }
            count = next
        }
        let (total, overflow) = count.multipliedReportingOverflow(by: unit)
        // Cap at 10 years so that microsecond arithmetic on windows can never overflow.
        guard count > 0, !overflow, total <= 3_650 * 86_400 else { throw ResolutionError(text: text) }
        self.seconds = total
    }

    /// Window length in microseconds, the unit of ``Reading/timestamp``.
    public var microseconds: Int64 { seconds * 1_000_000 }

    /// Start (in microseconds) of the window holding `timestamp`, floor-aligned to the epoch,
    /// also for timestamps before 1970.
    @inline(__always)
    public func windowStart(containing timestamp: Int64) -> Int64 {
        let width = microseconds
        let quotient = timestamp / width
        let floored = (timestamp % width < 0) ? quotient - 1 : quotient
        return floored * width
    }

    /// Whether `other` is a whole multiple of this resolution.
    public func divides(_ other: Resolution) -> Bool { other.seconds % seconds == 0 }

    /// The shortest text that parses back to this value (`90s`, `5m`, `1d`).
    public var description: String {
        if seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        if seconds % 3_600 == 0 { return "\(seconds / 3_600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }

    public static func < (lhs: Resolution, rhs: Resolution) -> Bool { lhs.seconds < rhs.seconds }
}

/// A window, step or resolution text that is not `<count><unit>`.
public struct ResolutionError: Error, Sendable, Equatable, CustomStringConvertible {
    public let text: String
    public var description: String {
        "invalid window \"\(text)\": expected a whole number followed by s, m, h or d (e.g. 10s, 1m, 1h, 1d)"
    }
}

extension Resolution {
    /// How long buckets of this resolution are kept unless configured otherwise: up to
    /// 10 s for 7 days, up to 1 min for 90 days, longer for 1825 days (5 years).
    public var defaultRetention: Duration {
        switch seconds {
        case ...10: .seconds(7 * 86_400)
        case ...60: .seconds(90 * 86_400)
        default: .seconds(1_825 * 86_400)
        }
    }
}
