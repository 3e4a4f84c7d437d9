#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// InfluxDB line protocol (CONTRACT §2 format 3):
/// `measurement[,tag=v...] field=v[,field2=v...] [timestamp_ns]`, one item per line.
///
/// - metric = measurement for field `value`, `measurement.field` for every other numeric
///   field; field values are floats (`21.5`, `1e3`), integers `21i` or unsigned `21u`;
///   other fields (strings, booleans) are ignored, but `value` must be numeric and a line
///   needs at least one numeric field (`invalid_value`).
/// - Tag `device` names the device (required unless the topic gives it); tag `seq` gives
///   the seq of every reading of the line; other tags are ignored.
/// - Timestamp: integer nanoseconds ≥ 0, floored to µs; missing = arrival time.
/// - `\,` `\ ` `\=` escapes are honoured when finding the end of names, but no valid
///   device or metric can contain those characters, so escaped names are rejected.
/// - Lines end at `\n` (a `\r` before it is dropped); blank lines are skipped and not
///   counted; `#` lines are comments: counted in the index, no readings.
struct LineProtocolDecoder {
    private var names: NameResolver
    private let arrivalTime: Int64
    private let maxReadings: Int
    /// `measurement.field` names by field position in the line (lines of one batch
    /// usually share their shape).
    private var fieldMetrics = FieldMetricCache()

    init(context: DecodeContext) {
        names = NameResolver(context: context)
        arrivalTime = context.arrivalTime
        maxReadings = context.maxReadings
    }

    mutating func decode(base: UnsafePointer<UInt8>, count: Int) throws(DecodeError) -> [Reading] {
        var readings: [Reading] = []
        readings.reserveCapacity(min(count / 32, 4_096))
        var index = 0
        try ReadingDecoder.forEachLine(base: base, count: count) { (lineStart, newline) throws(DecodeError) in
            var lineEnd = newline
            if lineEnd > lineStart, base[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            var p = lineStart
            while p < lineEnd, base[p] == 0x20 || base[p] == 0x09 { p += 1 }
            if p < lineEnd {
                if base[p] != 0x23 {  // '#': a comment
                    try decodeLine(base, from: p, to: lineEnd, index: index, into: &readings)
                }
                index += 1
            }
        }
        guard index > 0 else { throw ReadingDecoder.emptyPayload }
        return readings
    }

    // MARK: - One line

    private mutating func decodeLine(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int, index: Int,
                                     into readings: inout [Reading]) throws(DecodeError) {
        var p = start
        @inline(__always) func bytes(_ from: Int, _ to: Int) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(start: base + from, count: to - from)
        }
        func text(_ from: Int, _ to: Int) -> String {
            let shown = min(to - from, 40)
            return String(decoding: bytes(from, from + shown), as: UTF8.self) + (shown < to - from ? "…" : "")
        }
        func malformed(_ problem: String) -> DecodeError {
            DecodeError(.malformed, index: index, "item \(index): \(problem)")
        }

        // measurement
        let measurementStart = p
        Self.scanName(base, &p, end, stopAtEquals: false)
        let measurement = bytes(measurementStart, p)

        // tags
        var deviceTag: UnsafeBufferPointer<UInt8>?
        var seq: UInt64?
        while p < end, base[p] == 0x2C {
            p += 1
            let keyStart = p
            Self.scanName(base, &p, end, stopAtEquals: true)
            guard p < end, base[p] == 0x3D, p > keyStart else {
                throw malformed("tag \"\(text(keyStart, p))\" must be key=value")
            }
            let key = bytes(keyStart, p)
            p += 1
            let valueStart = p
            Self.scanName(base, &p, end, stopAtEquals: false)
            guard p > valueStart else { throw malformed("tag \"\(text(keyStart, p))\" has an empty value") }
            if Self.equals(key, "device") {
                guard deviceTag == nil else { throw malformed("duplicate tag \"device\"") }
                deviceTag = bytes(valueStart, p)
            } else if Self.equals(key, "seq") {
                guard seq == nil else { throw malformed("duplicate tag \"seq\"") }
                guard let value = Self.unsigned(bytes(valueStart, p)) else {
                    throw DecodeError(.invalidSeq, index: index,
                                      "item \(index): seq tag \"\(text(valueStart, p))\" is not an integer in 0...\(UInt64.max)")
                }
                seq = value
            }
        }
        guard measurement.count > 0 else { throw malformed("missing measurement (the metric name)") }
        guard p < end, base[p] == 0x20 else {
            throw malformed("missing field set; expected measurement[,tag=v...] field=v[,field=v...] [timestamp_ns]")
        }
        while p < end, base[p] == 0x20 { p += 1 }
        guard p < end else { throw malformed("missing field set after the tags") }

        let device = try names.nameOrTopic(.device, deviceTag, cacheable: true, noun: "item", index: index)

        // fields
        let first = readings.count
        var ordinal = 0
        while true {
            let keyStart = p
            Self.scanName(base, &p, end, stopAtEquals: true)
            guard p < end, base[p] == 0x3D, p > keyStart else {
                throw malformed("field \"\(text(keyStart, p))\" must be key=value")
            }
            let key = bytes(keyStart, p)
            let isValue = Self.equals(key, "value")
            p += 1
            let valueStart = p
            if p < end, base[p] == 0x22 {  // a string field: skipped
                p += 1
                while p < end, base[p] != 0x22 { p += base[p] == 0x5C ? 2 : 1 }
                guard p < end else { throw malformed("unterminated string in field \"\(text(keyStart, valueStart - 1))\"") }
                p += 1
                guard p == end || base[p] == 0x2C || base[p] == 0x20 else {
                    throw malformed("unexpected text after the string of field \"\(text(keyStart, valueStart - 1))\"")
                }
                if isValue {
                    throw DecodeError(.invalidValue, index: index, "item \(index): field value is a string; it must be a number")
                }
            } else {
                while p < end, base[p] != 0x2C, base[p] != 0x20 { p += 1 }
                switch Self.fieldValue(base, valueStart, p) {
                case .number(let value):
                    guard value.isFinite else {
                        throw DecodeError(.invalidValue, index: index,
                                          "item \(index): field \(text(keyStart, p)) is not a finite number")
                    }
                    guard ValueRange.contains(value) else {
                        throw DecodeError(.valueOutOfRange, index: index, ValueRange.problem("item \(index): field \(text(keyStart, p))"))
                    }
                    let metric: String
                    if isValue {
                        metric = try names.name(.metric, measurement, cacheable: true, noun: "item", index: index)
                    } else {
                        metric = try fieldMetric(measurement, key, slot: ordinal, index: index)
                    }
                    try ReadingDecoder.checkRoom(readings, limit: maxReadings)
                    readings.append(Reading(device: device, metric: metric, value: value, timestamp: 0, seq: seq))
                case .boolean:
                    if isValue {
                        throw DecodeError(.invalidValue, index: index, "item \(index): field value is a boolean; it must be a number")
                    }
                case .invalid:
                    if isValue {
                        throw DecodeError(.invalidValue, index: index,
                                          "item \(index): field \(text(keyStart, p)) is not a finite number")
                    }
                    throw malformed("field \(text(keyStart, p)) has no valid value (number, 1i, 1u, string or boolean)")
                }
            }
            ordinal += 1
            if p < end, base[p] == 0x2C { p += 1; continue }
            break
        }
        guard readings.count > first else {
            throw DecodeError(.invalidValue, index: index, "item \(index): no numeric field")
        }

        // timestamp
        while p < end, base[p] == 0x20 || base[p] == 0x09 { p += 1 }
        var timestamp = arrivalTime
        if p < end {
            let tsStart = p
            while p < end, base[p] != 0x20, base[p] != 0x09 { p += 1 }
            guard let micros = Self.nanosecondsToMicros(bytes(tsStart, p)) else {
                throw DecodeError(.invalidTimestamp, index: index,
                                  "item \(index): timestamp \"\(text(tsStart, p))\" is not a non-negative integer of nanoseconds")
            }
            timestamp = micros
            while p < end, base[p] == 0x20 || base[p] == 0x09 { p += 1 }
            guard p == end else { throw malformed("unexpected text \"\(text(p, end))\" after the timestamp") }
        }
        var i = first
        while i < readings.count {
            readings[i].timestamp = timestamp
            i += 1
        }
    }

    private mutating func fieldMetric(_ measurement: UnsafeBufferPointer<UInt8>, _ field: UnsafeBufferPointer<UInt8>,
                                      slot: Int, index: Int) throws(DecodeError) -> String {
        if let hit = fieldMetrics.lookup(slot, measurement, field) { return hit }
        let name = String(decoding: measurement, as: UTF8.self) + "." + String(decoding: field, as: UTF8.self)
        let metric = try names.validated(.metric, name, noun: "item", index: index)
        fieldMetrics.store(slot, measurement, field, metric)
        return metric
    }

    // MARK: - Lexing

    /// Moves `p` to the first unescaped `,` or space (or `=` when `stopAtEquals`); a
    /// backslash always takes the next byte with it.
    @inline(__always)
    private static func scanName(_ base: UnsafePointer<UInt8>, _ p: inout Int, _ end: Int, stopAtEquals: Bool) {
        while p < end {
            let b = base[p]
            if b == 0x5C { p += 2; continue }
            if b == 0x2C || b == 0x20 || (stopAtEquals && b == 0x3D) { break }
            p += 1
        }
        if p > end { p = end }
    }

    @inline(__always)
    private static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount, let start = bytes.baseAddress else { return false }
        return memcmp(start, literal.utf8Start, bytes.count) == 0
    }

    private enum FieldValue {
        case number(Double)
        case boolean
        case invalid
    }

    /// Classifies a field value: float, `i`/`u` integer, boolean literal, or invalid.
    private static func fieldValue(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> FieldValue {
        guard end > start else { return .invalid }
        let token = UnsafeBufferPointer(start: base + start, count: end - start)
        switch token.count {
        case 1 where token[0] | 0x20 == 0x74 || token[0] | 0x20 == 0x66:  // t T f F
            return .boolean
        case 4 where equals(token, "true") || equals(token, "True") || equals(token, "TRUE"):
            return .boolean
        case 5 where equals(token, "false") || equals(token, "False") || equals(token, "FALSE"):
            return .boolean
        default:
            break
        }
        let last = token[token.count - 1]
        if last == 0x69 {  // i: signed 64-bit
            let digits = UnsafeBufferPointer(rebasing: token.dropLast())
            let negative = digits.first == 0x2D
            guard let magnitude = unsigned(negative ? UnsafeBufferPointer(rebasing: digits.dropFirst()) : digits),
                  magnitude <= (negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max))
            else { return .invalid }
            return .number(negative ? -Double(magnitude) : Double(magnitude))
        }
        if last == 0x75 {  // u: unsigned 64-bit
            guard let magnitude = unsigned(UnsafeBufferPointer(rebasing: token.dropLast())) else { return .invalid }
            return .number(Double(magnitude))
        }
        // float: [+-] digits [. digits] [e [+-] digits], at least one mantissa digit
        var decimal = DecimalNumber()
        var p = start
        if base[p] == 0x2D || base[p] == 0x2B {
            decimal.negative = base[p] == 0x2D
            p += 1
        }
        var sawDigit = false
        while p < end, base[p] &- 0x30 < 10 {
            decimal.appendIntegerDigit(base[p] &- 0x30)
            sawDigit = true
            p += 1
        }
        if p < end, base[p] == 0x2E {
            p += 1
            while p < end, base[p] &- 0x30 < 10 {
                decimal.appendFractionDigit(base[p] &- 0x30)
                sawDigit = true
                p += 1
            }
        }
        guard sawDigit else { return .invalid }
        if p < end, base[p] | 0x20 == 0x65 {
            p += 1
            var negativeExponent = false
            if p < end, base[p] == 0x2B || base[p] == 0x2D {
                negativeExponent = base[p] == 0x2D
                p += 1
            }
            guard p < end, base[p] &- 0x30 < 10 else { return .invalid }
            var exponent = 0
            while p < end, base[p] &- 0x30 < 10 {
                if exponent < DecimalNumber.exponentLimit { exponent = exponent * 10 + Int(base[p] &- 0x30) }
                p += 1
            }
            decimal.exponent += negativeExponent ? -exponent : exponent
        }
        guard p == end else { return .invalid }
        return .number(decimal.double(text: base + start, count: end - start))
    }

    /// Decimal digits only, no sign, within UInt64.
    @inline(__always)
    private static func unsigned(_ digits: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard var p = digits.baseAddress, digits.count > 0 else { return nil }
        var n = digits.count
        while n > 1, p[0] == 0x30 { p += 1; n -= 1 }  // leading zeros
        guard n <= 20 else { return nil }
        var value: UInt64 = 0
        var i = 0
        while n - i >= 8, i + 8 <= 19, let eight = DecimalNumber.eightDigits(p + i) {
            value = value &* 100_000_000 &+ eight
            i += 8
        }
        while i < min(n, 19) {  // 19 digits cannot overflow
            let d = p[i] &- 0x30
            guard d < 10 else { return nil }
            value = value &* 10 &+ UInt64(d)
            i += 1
        }
        if n == 20 {
            let d = p[19] &- 0x30
            guard d < 10 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(d))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return value
    }

    /// Integer nanoseconds ≥ 0 (`-0` is 0) floored to µs; nil when not that.
    private static func nanosecondsToMicros(_ token: UnsafeBufferPointer<UInt8>) -> Int64? {
        let negative = token.first == 0x2D
        guard let nanos = unsigned(negative ? UnsafeBufferPointer(rebasing: token.dropFirst()) : token),
              nanos <= UInt64(Int64.max), !negative || nanos == 0
        else { return nil }
        return Int64(nanos / 1_000)
    }
}

/// A few `measurement.field` metric names keyed by the field's position in its line;
/// the remembered pointers point into the payload buffer, valid for one decode call.
private struct FieldMetricCache {
    private struct Entry {
        var measurement: UnsafeBufferPointer<UInt8>
        var field: UnsafeBufferPointer<UInt8>
        var metric: String
    }

    private var entries: [Entry?] = []
    private static let slots = 8

    @inline(__always)
    private static func same(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count, let pa = a.baseAddress, let pb = b.baseAddress else { return false }
        return pa == pb || memcmp(pa, pb, a.count) == 0
    }

    func lookup(_ slot: Int, _ measurement: UnsafeBufferPointer<UInt8>, _ field: UnsafeBufferPointer<UInt8>) -> String? {
        guard slot < entries.count, let entry = entries[slot],
              Self.same(entry.field, field), Self.same(entry.measurement, measurement)
        else { return nil }
        return entry.metric
    }

    mutating func store(_ slot: Int, _ measurement: UnsafeBufferPointer<UInt8>, _ field: UnsafeBufferPointer<UInt8>, _ metric: String) {
        guard slot < Self.slots else { return }
        if entries.isEmpty { entries = Array(repeating: nil, count: Self.slots) }
        entries[slot] = Entry(measurement: measurement, field: field, metric: metric)
    }
}
