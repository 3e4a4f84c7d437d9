/// Native JSON readings (CONTRACT §2 format 1): one object, an array of objects, or one
/// object per line (NDJSON), each `{"device","metric","value","ts","seq"}`.
///
/// Items are read straight off the bytes by ``JSONScanner``; unknown keys are validated
/// and skipped; a repeated known key is `malformed`. Fields are checked in a fixed order
/// (device, metric, value, ts, seq) after the whole object is read, so one bad item always
/// gives the same reason.
struct NativeJSONDecoder {
    private var names: NameResolver
    private let arrivalTime: Int64
    private let maxReadings: Int

    init(context: DecodeContext) {
        names = NameResolver(context: context)
        arrivalTime = context.arrivalTime
        maxReadings = context.maxReadings
    }

    // MARK: - Payloads

    /// One object or an array of objects. A syntax error anywhere in the document wins
    /// over an item error (index nil), as the body is then not JSON at all.
    mutating func decodeDocument(base: UnsafePointer<UInt8>, count: Int) throws(DecodeError) -> [Reading] {
        try ReadingDecoder.readJSONDocument(base: base, count: count) { (scanner, readings) throws(DecodeError) in
            switch scanner.peek {
            case 0x7B:
                try ReadingDecoder.checkRoom(readings, limit: maxReadings)
                readings.append(try decodeObject(&scanner, index: 0))
            case 0x5B:
                try scanner.scanArray(into: &readings) { (index, scanner, readings) throws(DecodeError) in
                    if index == 0 { readings.reserveCapacity(min(count / 48, 4_096)) }
                    guard scanner.peek == 0x7B else {
                        throw DecodeError(.malformed, index: index, "item \(index): expected a JSON object")
                    }
                    try ReadingDecoder.checkRoom(readings, limit: maxReadings)
                    readings.append(try decodeObject(&scanner, index: index))
                }
            default:
                try JSONScanner.validateDocument(base: base, start: 0, end: count)
                throw DecodeError(.malformed, index: nil, "payload must be a JSON object or an array of objects")
            }
        }
    }

    /// One object per line; blank lines are skipped and not counted. Each line is its own
    /// JSON text, so a syntax error names its line's index.
    mutating func decodeLines(base: UnsafePointer<UInt8>, count: Int) throws(DecodeError) -> [Reading] {
        var readings: [Reading] = []
        readings.reserveCapacity(min(count / 48, 4_096))
        var index = 0
        try ReadingDecoder.forEachLine(base: base, count: count) { (lineStart, lineEnd) throws(DecodeError) in
            var scanner = JSONScanner(base: base, start: lineStart, end: lineEnd)
            if lineStart == 0 { scanner.skipByteOrderMark() }
            scanner.skipWhitespace()
            if !scanner.atEnd {
                try ReadingDecoder.checkRoom(readings, limit: maxReadings)
                do throws(DecodeError) {
                    guard scanner.peek == 0x7B else {
                        throw DecodeError(.malformed, index: index, "item \(index): expected a JSON object")
                    }
                    readings.append(try decodeObject(&scanner, index: index))
                    scanner.skipWhitespace()
                    guard scanner.atEnd else { throw scanner.syntaxError("end of line after the JSON object") }
                } catch {
                    var error = error
                    if error.index != nil {
                        do throws(DecodeError) {
                            try JSONScanner.validateDocument(base: base, start: lineStart, end: lineEnd)
                        } catch let syntax {
                            error = syntax
                        }
                    }
                    if error.index == nil {
                        error = DecodeError(error.reason, index: index, "item \(index): \(error.message)")
                    }
                    throw error
                }
                index += 1
            }
        }
        guard index > 0 else { throw ReadingDecoder.emptyPayload }
        return readings
    }

    // MARK: - One item

    private enum Key {
        case device, metric, value, ts, seq, other
    }

    private struct Fields {
        var device: JSONValue?
        var metric: JSONValue?
        var value: JSONValue?
        var ts: JSONValue?
        var seq: JSONValue?
    }

    /// Reads the object at the scanner (which is at its `{`) into a reading.
    @inline(__always)
    mutating func decodeObject(_ scanner: inout JSONScanner, index: Int) throws(DecodeError) -> Reading {
        var fields = Fields()
        try scanner.scanObject(into: &fields) { (key, scanner, fields) throws(DecodeError) in
            switch Self.key(key, scanner) {
            case .device: try scanner.scanField(&fields.device, "device", noun: "item", index: index)
            case .metric: try scanner.scanField(&fields.metric, "metric", noun: "item", index: index)
            case .value: try scanner.scanField(&fields.value, "value", noun: "item", index: index)
            case .ts: try scanner.scanField(&fields.ts, "ts", noun: "item", index: index)
            case .seq: try scanner.scanField(&fields.seq, "seq", noun: "item", index: index)
            case .other: try scanner.skipValue(depth: 1)
            }
        }
        return try reading(&fields, scanner, index: index)
    }

    @inline(__always)
    private static func key(_ key: JSONString, _ scanner: JSONScanner) -> Key {
        if key.escaped { return escapedKey(scanner.unescaped(key)) }
        switch key.end - key.start {
        case 2: return scanner.equals(key, "ts") ? .ts : .other
        case 3: return scanner.equals(key, "seq") ? .seq : .other
        case 5: return scanner.equals(key, "value") ? .value : .other
        case 6:
            if scanner.equals(key, "device") { return .device }
            return scanner.equals(key, "metric") ? .metric : .other
        default: return .other
        }
    }

    private static func escapedKey(_ bytes: [UInt8]) -> Key {
        switch String(decoding: bytes, as: UTF8.self) {
        case "device": .device
        case "metric": .metric
        case "value": .value
        case "ts": .ts
        case "seq": .seq
        default: .other
        }
    }

    /// `fields` is `inout` only so that it is read in place: passed by value, the
    /// caller would copy all five fields for every item.
    @inline(__always)
    private mutating func reading(_ fields: inout Fields, _ scanner: JSONScanner, index: Int) throws(DecodeError) -> Reading {
        // Device and metric are spelled out rather than shared through one helper taking
        // the kind: with that helper the optimizer stops inlining `scanner.double` here,
        // ~1.5% slower on the native JSON rows.
        let device: String
        switch fields.device {
        case nil:
            device = try names.topicName(.device, noun: "item", index: index)
        case .string(let string)?:
            device = try scanner.withBytes(string) { (bytes, cacheable) throws(DecodeError) in
                try names.name(.device, bytes, cacheable: cacheable, noun: "item", index: index)
            }
        case let other?:
            throw DecodeError(.invalidDevice, index: index, "item \(index): device must be a string, not \(scanner.snippet(other))")
        }

        let metric: String
        switch fields.metric {
        case nil:
            metric = try names.topicName(.metric, noun: "item", index: index)
        case .string(let string)?:
            metric = try scanner.withBytes(string) { (bytes, cacheable) throws(DecodeError) in
                try names.name(.metric, bytes, cacheable: cacheable, noun: "item", index: index)
            }
        case let other?:
            throw DecodeError(.invalidMetric, index: index, "item \(index): metric must be a string, not \(scanner.snippet(other))")
        }

        let value: Double
        switch fields.value {
        case .number(let number)?:
            value = scanner.double(number)
            guard value.isFinite else { throw Self.notFinite(fields.value, scanner, index) }
            guard ValueRange.contains(value) else {
                throw DecodeError(.valueOutOfRange, index: index, ValueRange.problem("item \(index): value \(scanner.snippet(number.start, number.end))"))
            }
        case nil:
            throw DecodeError(.invalidValue, index: index, "item \(index): missing value")
        default:
            throw Self.notFinite(fields.value, scanner, index)
        }

        let timestamp = try fields.ts.map { (ts) throws(DecodeError) in
            try Self.timestamp(ts, scanner, noun: "item", index: index)
        } ?? arrivalTime

        let seq = try fields.seq.map { (seq) throws(DecodeError) in try Self.sequence(seq, scanner, index: index) }

        return Reading(device: device, metric: metric, value: value, timestamp: timestamp, seq: seq)
    }

    private static func notFinite(_ value: JSONValue?, _ scanner: JSONScanner, _ index: Int) -> DecodeError {
        let text = value.map { scanner.snippet($0) } ?? ""
        return DecodeError(.invalidValue, index: index, "item \(index): value \(text) is not a finite number")
    }

    /// A ts field: Unix seconds (exact to the µs from the digits) or an RFC 3339 string,
    /// within 1970-01-01..9999-12-31.
    static func timestamp(_ value: JSONValue, _ scanner: JSONScanner, noun: StaticString, index: Int) throws(DecodeError) -> Int64 {
        let micros: Int64?
        switch value {
        case .number(let number):
            micros = number.decimal.microseconds()
        case .string(let string):
            micros = try scanner.withBytes(string) { (bytes, _) throws(DecodeError) in
                RFC3339.parse(UnsafeRawBufferPointer(bytes))
            }
            guard micros != nil else {
                throw DecodeError(.invalidTimestamp, index: index,
                                  "\(noun) \(index): ts \(scanner.snippet(value)) is not an RFC 3339 time like \"2025-11-26T14:00:00Z\"")
            }
        case .other:
            throw DecodeError(.invalidTimestamp, index: index,
                              "\(noun) \(index): ts \(scanner.snippet(value)) must be Unix seconds or an RFC 3339 string")
        }
        guard let micros, micros >= RFC3339.minAcceptedMicros, micros <= RFC3339.maxAcceptedMicros else {
            throw DecodeError(.invalidTimestamp, index: index,
                              "\(noun) \(index): ts \(scanner.snippet(value)) is outside 1970-01-01..9999-12-31")
        }
        return micros
    }

    /// A seq field: a JSON integer (no fraction, no exponent) in 0...UInt64.max.
    static func sequence(_ value: JSONValue, _ scanner: JSONScanner, index: Int) throws(DecodeError) -> UInt64 {
        if case .number(let number) = value, number.isInteger {
            let decimal = number.decimal
            // Up to 19 digits are all in the mantissa; only 20-digit values need a re-read.
            if decimal.exponent == 0, !decimal.truncated, !decimal.negative || decimal.mantissa == 0 { return decimal.mantissa }
            var p = number.start
            if scanner.base[p] == 0x2D { p += 1 }
            var result: UInt64 = 0
            var overflow = false
            while p < number.end {
                let (times10, o1) = result.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(scanner.base[p] - 0x30))
                overflow = overflow || o1 || o2
                result = sum
                p += 1
            }
            if !overflow, !number.decimal.negative || result == 0 { return result }
        }
        throw DecodeError(.invalidSeq, index: index,
                          "item \(index): seq \(scanner.snippet(value)) is not an integer in 0...\(UInt64.max)")
    }
}
