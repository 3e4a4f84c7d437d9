#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns a payload of any ``PayloadFormat`` into readings, validated as CONTRACT §2 says.
///
/// A payload is atomic: either every item is valid and all readings are returned (in
/// payload order; an item of line protocol with k numeric fields gives k readings), or the
/// first bad item throws a ``DecodeError`` with its reason, its 0-based index and a message
/// naming it. `index` is nil when the payload as a whole is unreadable (not JSON, an empty
/// body, a bad bare number, a topic name that breaks the rules).
///
/// Cost: one pass over the bytes, no Foundation, no allocation per reading beyond the
/// returned array and the device/metric Strings (inline up to 15 UTF-8 bytes; a name
/// repeated by consecutive items is shared, not re-created). Thread-safe: pure function.
public enum ReadingDecoder {
    /// Decodes `bytes` as `format`, with the names and arrival time `context` supplies.
    public static func decode(_ bytes: UnsafeRawBufferPointer, format: PayloadFormat, context: DecodeContext) throws(DecodeError) -> [Reading] {
        try NameResolver.validateContext(context)
        guard let raw = bytes.baseAddress, bytes.count > 0 else {
            if format == .bareNumber, !context.allowsBareNumber { throw bareNumberWithoutTopic }
            throw emptyPayload
        }
        let base = raw.assumingMemoryBound(to: UInt8.self)
        let count = bytes.count
        switch format {
        case .json:
            var decoder = NativeJSONDecoder(context: context)
            return try decoder.decodeDocument(base: base, count: count)
        case .ndjson:
            var decoder = NativeJSONDecoder(context: context)
            return try decoder.decodeLines(base: base, count: count)
        case .senml:
            var decoder = SenMLDecoder(context: context)
            return try decoder.decode(base: base, count: count)
        case .lineProtocol:
            var decoder = LineProtocolDecoder(context: context)
            return try decoder.decode(base: base, count: count)
        case .bareNumber:
            return try decodeBareNumber(base: base, count: count, context: context)
        }
    }

    /// Decodes a byte array; see the `UnsafeRawBufferPointer` overload.
    public static func decode(_ bytes: [UInt8], format: PayloadFormat, context: DecodeContext) throws(DecodeError) -> [Reading] {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(DecodeError) -> [Reading] in try decode(buffer, format: format, context: context) }
        }.get()
    }

    /// Decodes the UTF-8 of a string (tests, tools); see
    /// the `UnsafeRawBufferPointer` overload.
    public static func decode(_ text: String, format: PayloadFormat, context: DecodeContext) throws(DecodeError) -> [Reading] {
        var text = text
        return try text.withUTF8 { buffer in
            Result { () throws(DecodeError) -> [Reading] in
                try decode(UnsafeRawBufferPointer(buffer), format: format, context: context)
            }
        }.get()
    }

    // MARK: - Bare number

    /// One JSON number with optional whitespace around it, for the topic's device and
    /// metric at arrival time.
    private static func decodeBareNumber(base: UnsafePointer<UInt8>, count: Int, context: DecodeContext) throws(DecodeError) -> [Reading] {
        guard let device = context.device, let metric = context.metric else { throw bareNumberWithoutTopic }
        var scanner = JSONScanner(base: base, start: 0, end: count)
        scanner.skipWhitespace()
        guard !scanner.atEnd else { throw emptyPayload }
        let start = scanner.pos
        let b = scanner.peek
        guard b == 0x2D || b &- 0x30 < 10 else {
            throw DecodeError(.malformed, index: nil, "payload \(scanner.snippet(start, count)) is not a JSON number")
        }
        let number: JSONNumber
        do throws(DecodeError) {
            number = try scanner.scanNumber()
            scanner.skipWhitespace()
            guard scanner.atEnd else { throw scanner.syntaxError("end of input after the number") }
        } catch {
            throw DecodeError(.malformed, index: nil,
                              "payload \(scanner.snippet(start, count)) is not a JSON number (\(error.message))")
        }
        let value = scanner.double(number)
        guard value.isFinite else {
            throw DecodeError(.invalidValue, index: nil,
                              "value \(scanner.snippet(number.start, number.end)) is not a finite number")
        }
        guard ValueRange.contains(value) else {
            throw DecodeError(.valueOutOfRange, index: nil, ValueRange.problem("value \(scanner.snippet(number.start, number.end))"))
        }
        return [Reading(device: device, metric: metric, value: value, timestamp: context.arrivalTime)]
    }

    // MARK: - Shared

    static var emptyPayload: DecodeError { DecodeError(.malformed, index: nil, "empty payload") }

    /// Called before each reading is added: past the payload's limit, `too_large`.
    @inline(__always)
    static func checkRoom(_ readings: [Reading], limit: Int) throws(DecodeError) {
        if readings.count >= limit { throw tooManyReadings(limit) }
    }

    @inline(never)
    private static func tooManyReadings(_ limit: Int) -> DecodeError {
        DecodeError(.tooLarge, index: nil, "payload holds more than \(limit) readings (limits.max_readings_per_payload)")
    }

    static var bareNumberWithoutTopic: DecodeError {
        DecodeError(.malformed, index: nil,
                    "a bare number needs a topic naming device and metric (sensors/<device>/<metric>)")
    }

    /// Reads the JSON document `base[0..<count]`: `body` gets the scanner at its value
    /// (after an optional byte order mark and whitespace) and the readings to fill; after
    /// that value only whitespace may follow. An empty document is `emptyPayload`. A syntax
    /// error anywhere in the document wins over an item error (one with an index), as the
    /// body is then not JSON at all.
    ///
    /// Not `@inline(__always)`: it runs once per payload, and forced inline it changes
    /// how the per-item code is inlined (native JSON ~4% slower).
    static func readJSONDocument(
        base: UnsafePointer<UInt8>, count: Int,
        _ body: (_ scanner: inout JSONScanner, _ readings: inout [Reading]) throws(DecodeError) -> Void
    ) throws(DecodeError) -> [Reading] {
        var scanner = JSONScanner(base: base, start: 0, end: count)
        scanner.skipByteOrderMark()
        scanner.skipWhitespace()
        guard !scanner.atEnd else { throw emptyPayload }
        var readings: [Reading] = []
        do throws(DecodeError) {
            try body(&scanner, &readings)
            scanner.skipWhitespace()
            guard scanner.atEnd else { throw scanner.syntaxError("end of input after the JSON value") }
        } catch {
            if error.index != nil { try JSONScanner.validateDocument(base: base, start: 0, end: count) }
            throw error
        }
        return readings
    }

    /// Calls `line` with the bounds of each line of `base[0..<count]`: from its first byte
    /// to its `\n` (or `count`), which is left out; nothing else is trimmed.
    @inline(__always)
    static func forEachLine(base: UnsafePointer<UInt8>, count: Int,
                            _ line: (_ start: Int, _ end: Int) throws(DecodeError) -> Void) throws(DecodeError) {
        var start = 0
        while start < count {
            let end = endOfLine(base: base, from: start, count: count)
            try line(start, end)
            start = end + 1
        }
    }

    /// Offset of the next `\n` at or after `from`, or `count`.
    @inline(__always)
    private static func endOfLine(base: UnsafePointer<UInt8>, from: Int, count: Int) -> Int {
        guard let hit = memchr(base + from, 0x0A, count - from) else { return count }
        return UnsafeRawPointer(hit) - UnsafeRawPointer(base)
    }
}
