/// RFC 3339 timestamps ⇄ microseconds since the Unix epoch, with pure integer civil-date
/// arithmetic (Howard Hinnant's `days_from_civil` / `civil_from_days`): no Foundation, no
/// `DateFormatter`, no allocation when parsing.
///
/// Accepted form: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, `T` and `Z` in either case,
/// 1 or more fractional digits (digits beyond microseconds are truncated), second `60`
/// (a leap second) read as the first second of the next minute. Anything else is `nil`.
public enum RFC3339 {
    /// `1970-01-01T00:00:00Z`, the earliest event time SensorHub accepts.
    public static let minAcceptedMicros: Int64 = 0
    /// `9999-12-31T23:59:59.999999Z`, the latest event time SensorHub accepts.
    public static let maxAcceptedMicros: Int64 = 253_402_300_799_999_999

    /// Parses an RFC 3339 date-time into microseconds since the epoch (UTC).
    ///
    /// Every year 0000–9999 parses (the result may be negative); callers that need the
    /// accepted reading range check it against ``minAcceptedMicros``/``maxAcceptedMicros``.
    public static func parse(_ text: String) -> Int64? {
        var copy = text
        return copy.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// Parses an RFC 3339 date-time from UTF-8 bytes; see the String overload.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        let n = bytes.count
        guard n >= 20 else { return nil }
        @inline(__always) func digit(_ i: Int) -> Int64? {
            let d = bytes[i] &- 0x30
            return d < 10 ? Int64(d) : nil
        }
        @inline(__always) func two(_ i: Int) -> Int64? {
            guard let a = digit(i), let b = digit(i + 1) else { return nil }
            return a * 10 + b
        }
        guard let y1 = two(0), let y2 = two(2), bytes[4] == 0x2D,
              let month = two(5), bytes[7] == 0x2D, let day = two(8),
              bytes[10] | 0x20 == 0x74,  // T or t
              let hour = two(11), bytes[13] == 0x3A, let minute = two(14),
              bytes[16] == 0x3A, let second = two(17)
        else { return nil }
        let year = y1 * 100 + y2
        guard month >= 1, month <= 12, day >= 1, day <= daysInMonth(year: year, month: month),
              hour <= 23, minute <= 59, second <= 60
        else { return nil }

        var p = 19
        var fraction: Int64 = 0
        if bytes[p] == 0x2E {  // '.'
            p += 1
            var digits = 0
            while p < n, let d = digit(p) {
                if digits < 6 { fraction = fraction * 10 + d }
                digits += 1
                p += 1
            }
            guard digits > 0 else { return nil }
            var scale = digits
            while scale < 6 { fraction *= 10; scale += 1 }
        }
        guard p < n else { return nil }
        var offsetSeconds: Int64 = 0
        switch bytes[p] {
        case 0x5A, 0x7A:  // Z z
            p += 1
        case 0x2B, 0x2D:  // + -
            guard p + 6 <= n, let oh = two(p + 1), bytes[p + 3] == 0x3A, let om = two(p + 4),
                  oh <= 23, om <= 59
            else { return nil }
            offsetSeconds = (oh * 3_600 + om * 60) * (bytes[p] == 0x2D ? -1 : 1)
            p += 6
        default:
            return nil
        }
        guard p == n else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offsetSeconds
        return seconds * 1_000_000 + fraction
    }

    /// Formats microseconds since the epoch as `2025-11-26T14:00:00Z`, in UTC, with
    /// fractional digits only when the time has a sub-second part (`…:00.25Z`,
    /// trailing zeros trimmed, at most 6 digits).
    public static func format(_ micros: Int64) -> String {
        let (seconds, fraction) = floorDivMod(micros, 1_000_000)
        let (days, secondOfDay) = floorDivMod(seconds, 86_400)
        let (year, month, day) = civilFromDays(days)
        var fractionDigits = 0
        var trimmed = fraction
        if fraction != 0 {
            fractionDigits = 6
            while trimmed % 10 == 0 { trimmed /= 10; fractionDigits -= 1 }
        }
        let yearDigits = max(4, decimalWidth(abs(year)))
        let capacity = (year < 0 ? 1 : 0) + yearDigits + 16 + (fractionDigits > 0 ? fractionDigits + 1 : 0)
        return String(unsafeUninitializedCapacity: capacity) { buffer in
            var i = 0
            func put(_ byte: UInt8) { buffer[i] = byte; i += 1 }
            func putDigits(_ value: Int64, width: Int) {
                var v = value
                var k = width - 1
                while k >= 0 { buffer[i + k] = UInt8(truncatingIfNeeded: v % 10) + 0x30; v /= 10; k -= 1 }
                i += width
            }
            if year < 0 { put(0x2D) }
            putDigits(abs(year), width: yearDigits)
            put(0x2D); putDigits(month, width: 2); put(0x2D); putDigits(day, width: 2)
            put(0x54)
            putDigits(secondOfDay / 3_600, width: 2); put(0x3A)
            putDigits(secondOfDay / 60 % 60, width: 2); put(0x3A)
            putDigits(secondOfDay % 60, width: 2)
            if fractionDigits > 0 { put(0x2E); putDigits(trimmed, width: fractionDigits) }
            put(0x5A)
            return i
        }
    }

    // MARK: - Civil calendar (proleptic Gregorian), after H. Hinnant

    /// Days since 1970-01-01 of a civil date; valid for any Int64-representable year.
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The civil date of a day count since 1970-01-01.
    static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2:
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            return leap ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        var q = a / b
        var r = a % b
        if r < 0 { q -= 1; r += b }
        return (q, r)
    }

    private static func decimalWidth(_ value: Int64) -> Int {
        var v = value.magnitude
        var width = 1
        while v >= 10 { v /= 10; width += 1 }
        return width
    }
}
