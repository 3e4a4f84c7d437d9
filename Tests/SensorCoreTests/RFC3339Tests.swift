import SensorCore
import Testing

@Suite struct RFC3339Tests {
    /// Expected values computed with `date -u -d '<text>' +%s.%N`.
    @Test(arguments: [
        ("2025-11-26T14:00:00Z", 1_764_165_600_000_000 as Int64),
        ("2025-11-26t14:00:00z", 1_764_165_600_000_000),
        ("2025-11-26T14:00:00.123456+01:00", 1_764_162_000_123_456),
        ("2025-11-26T14:00:00.1234567891Z", 1_764_165_600_123_456),
        ("2025-11-26T14:00:00.5-02:30", 1_764_174_600_500_000),
        ("2025-11-26T14:00:00-00:00", 1_764_165_600_000_000),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59Z", -1_000_000),
        ("2000-02-29T12:34:56Z", 951_827_696_000_000),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000_000),
        ("9999-12-31T23:59:59.999999Z", 253_402_300_799_999_999),
        ("2016-12-31T23:59:60Z", 1_483_228_800_000_000),  // leap second = next second
    ])
    func parsesValidTimes(text: String, micros: Int64) {
        #expect(RFC3339.parse(text) == micros, "\(text)")
    }

    @Test(arguments: [
        "", "2025-11-26", "2025-11-26T14:00:00", "2025-11-26 14:00:00Z", "2025-11-26T14:00Z",
        "2025-13-01T00:00:00Z", "2025-00-01T00:00:00Z", "2025-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
        "2025-04-31T00:00:00Z", "2025-11-26T24:00:00Z", "2025-11-26T14:60:00Z", "2025-11-26T14:00:61Z",
        "2025-11-26T14:00:00.Z", "2025-11-26T14:00:00+0100", "2025-11-26T14:00:00+24:00", "2025-11-26T14:00:00Zx",
        "25-11-26T14:00:00Z", "2025-11-26T14:00:00 Z", "+2025-11-26T14:00:00Z", "2025/11/26T14:00:00Z",
    ])
    func rejectsInvalidTimes(text: String) {
        #expect(RFC3339.parse(text) == nil, "\(text)")
    }

    @Test(arguments: [
        (1_764_165_600_000_000 as Int64, "2025-11-26T14:00:00Z"),
        (1_764_165_600_250_000, "2025-11-26T14:00:00.25Z"),
        (1_764_165_600_000_001, "2025-11-26T14:00:00.000001Z"),
        (1_764_165_600_123_456, "2025-11-26T14:00:00.123456Z"),
        (0, "1970-01-01T00:00:00Z"),
        (-1, "1969-12-31T23:59:59.999999Z"),
        (951_827_696_000_000, "2000-02-29T12:34:56Z"),
        (253_402_300_799_999_999, "9999-12-31T23:59:59.999999Z"),
    ])
    func formatsUTCWithTrimmedFraction(micros: Int64, text: String) {
        #expect(RFC3339.format(micros) == text)
    }

    /// Walks every day from 1970 to 2400 with a naive calendar and checks both directions.
    @Test func agreesWithNaiveCalendarDayByDay() {
        var (year, month, day) = (1970, 1, 1)
        var days: Int64 = 0
        func length(_ y: Int, _ m: Int) -> Int {
            if m == 2 { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28 }
            return [4, 6, 9, 11].contains(m) ? 30 : 31
        }
        func pad(_ v: Int, _ w: Int) -> String { String(repeating: "0", count: max(0, w - String(v).count)) + String(v) }
        var failures = 0
        while year < 2400 {
            let text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T00:00:00Z"
            let micros = days * 86_400_000_000
            if RFC3339.format(micros) != text || RFC3339.parse(text) != micros { failures += 1 }
            days += 1
            day += 1
            if day > length(year, month) { day = 1; month += 1 }
            if month > 12 { month = 1; year += 1 }
        }
        #expect(failures == 0)
    }

    @Test func roundTripsRandomTimes() {
        var generator = SeededGenerator(seed: 3339)
        for _ in 0..<20_000 {
            let micros = Int64.random(in: 0...RFC3339.maxAcceptedMicros, using: &generator)
            let text = RFC3339.format(micros)
            #expect(RFC3339.parse(text) == micros, "\(micros) -> \(text)")
        }
    }
}
