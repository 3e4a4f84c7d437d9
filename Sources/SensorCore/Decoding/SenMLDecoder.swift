/// SenML JSON packs (RFC 8428; CONTRACT §2 format 2): an array of records, one numeric
/// reading per record.
///
/// - Base fields `bn`, `bt`, `bv` carry over to later records until replaced; `n`, `t`
///   and `v` do not. value = `bv` + `v`; time = `bt` + `t` seconds, and a resulting time
///   below 2^28 s is relative to the arrival time (RFC 8428 §4.5.3); no time at all is the
///   arrival time.
/// - Names: with `n`, a `bn` ending in `/` or `:` gives the device without that character,
///   any other non-empty `bn` is the device, and the metric is `n`; with an empty `bn`, `n`
///   is split at its last `/` or `:`. Without `n`, `bn` is split that way. A name without
///   a device part (or an empty one) takes the topic's device; likewise an empty metric
///   part takes the topic's metric.
/// - A record with `vs`, `vb` or `vd`, or without `v`, is `invalid_value`; an unknown field
///   ending in `_` (RFC 8428 "must understand") is `malformed`; other unknown fields are
///   ignored. The index is the record's position.
struct SenMLDecoder {
    private var names: NameResolver
    private let arrivalTime: Int64
    private let maxReadings: Int

    /// 2^28 seconds in µs: SenML times below this are relative to now.
    static let relativeTimeLimit: Int64 = 268_435_456 * 1_000_000

    init(context: DecodeContext) {
        names = NameResolver(context: context)
        arrivalTime = context.arrivalTime
        maxReadings = context.maxReadings
    }

    private struct Record {
        var bn: JSONValue?
        var bt: JSONValue?
        var bv: JSONValue?
        var n: JSONValue?
        var t: JSONValue?
        var v: JSONValue?
        var vs: JSONValue?
        var vb: JSONValue?
        var vd: JSONValue?
    }

    /// The carried-over base fields.
    private struct Base {
        var name: JSONString?
        var time: Int64 = 0
        var value: Double = 0
    }

    mutating func decode(base: UnsafePointer<UInt8>, count: Int) throws(DecodeError) -> [Reading] {
        try ReadingDecoder.readJSONDocument(base: base, count: count) { (scanner, readings) throws(DecodeError) in
            guard scanner.peek == 0x5B else {
                try JSONScanner.validateDocument(base: base, start: 0, end: count)
                throw DecodeError(.malformed, index: nil, "SenML payload must be a JSON array of records")
            }
            var pack = Base()
            try scanner.scanArray(into: &readings) { (index, scanner, readings) throws(DecodeError) in
                if index == 0 { readings.reserveCapacity(min(count / 24, 4_096)) }
                guard scanner.peek == 0x7B else {
                    throw DecodeError(.malformed, index: index, "record \(index): expected a JSON object")
                }
                let record = try scanRecord(&scanner, index: index)
                try ReadingDecoder.checkRoom(readings, limit: maxReadings)
                readings.append(try reading(record, base: &pack, scanner, index: index))
            }
        }
    }

    // MARK: - Scanning

    private func scanRecord(_ scanner: inout JSONScanner, index: Int) throws(DecodeError) -> Record {
        var record = Record()
        try scanner.scanObject(into: &record) { (key, scanner, record) throws(DecodeError) in
            switch Self.key(key, scanner) {
            case .n: try scanner.scanField(&record.n, "n", noun: "record", index: index)
            case .t: try scanner.scanField(&record.t, "t", noun: "record", index: index)
            case .v: try scanner.scanField(&record.v, "v", noun: "record", index: index)
            case .bn: try scanner.scanField(&record.bn, "bn", noun: "record", index: index)
            case .bt: try scanner.scanField(&record.bt, "bt", noun: "record", index: index)
            case .bv: try scanner.scanField(&record.bv, "bv", noun: "record", index: index)
            case .vs: try scanner.scanField(&record.vs, "vs", noun: "record", index: index)
            case .vb: try scanner.scanField(&record.vb, "vb", noun: "record", index: index)
            case .vd: try scanner.scanField(&record.vd, "vd", noun: "record", index: index)
            case .mustUnderstand:
                throw DecodeError(.malformed, index: index,
                                  "record \(index): unsupported must-understand SenML field \(scanner.snippet(key.start - 1, key.end + 1))")
            case .other: try scanner.skipValue(depth: 1)
            }
        }
        return record
    }

    private enum Key {
        case bn, bt, bv, n, t, v, vs, vb, vd, mustUnderstand, other
    }

    @inline(__always)
    private static func key(_ token: JSONString, _ scanner: JSONScanner) -> Key {
        if token.escaped {
            return scanner.unescaped(token).withUnsafeBufferPointer { key($0) }
        }
        return key(UnsafeBufferPointer(start: scanner.base + token.start, count: token.end - token.start))
    }

    @inline(__always)
    private static func key(_ bytes: UnsafeBufferPointer<UInt8>) -> Key {
        switch bytes.count {
        case 1:
            switch bytes[0] {
            case 0x6E: return .n
            case 0x74: return .t
            case 0x76: return .v
            default: break
            }
        case 2:
            switch (bytes[0], bytes[1]) {
            case (0x62, 0x6E): return .bn
            case (0x62, 0x74): return .bt
            case (0x62, 0x76): return .bv
            case (0x76, 0x73): return .vs
            case (0x76, 0x62): return .vb
            case (0x76, 0x64): return .vd
            default: break
            }
        default: break
        }
        // A field ending in '_' must be understood (RFC 8428 §4.4); none is, here.
        return bytes.last == 0x5F ? .mustUnderstand : .other
    }

    // MARK: - Resolving

    private mutating func reading(_ record: Record, base pack: inout Base, _ scanner: JSONScanner, index: Int) throws(DecodeError) -> Reading {
        // Base fields first: they apply to this record and the ones after it.
        switch record.bn {
        case nil: break
        case .string(let name)?: pack.name = name
        case let other?:
            throw DecodeError(.invalidDevice, index: index, "record \(index): bn must be a string, not \(scanner.snippet(other))")
        }
        if let bt = record.bt { pack.time = try Self.seconds(bt, "bt", scanner, index) }
        if let bv = record.bv { pack.value = try Self.number(bv, "bv", scanner, index) }

        var name: JSONString?
        switch record.n {
        case nil: break
        case .string(let string)?: name = string
        case let other?:
            throw DecodeError(.invalidMetric, index: index, "record \(index): n must be a string, not \(scanner.snippet(other))")
        }
        let (device, metric) = try resolveNames(baseName: pack.name, name: name, scanner, index: index)

        let nonNumeric: (StaticString, JSONValue)? =
            record.vs.map { ("vs", $0) } ?? record.vb.map { ("vb", $0) } ?? record.vd.map { ("vd", $0) }
        if let (field, value) = nonNumeric {
            throw DecodeError(.invalidValue, index: index,
                              "record \(index): non-numeric SenML value (\(field) \(scanner.snippet(value))); only numeric v is accepted")
        }
        guard let v = record.v else {
            throw DecodeError(.invalidValue, index: index, "record \(index): missing v (a numeric value)")
        }
        let value = try Self.number(v, "v", scanner, index) + pack.value
        guard value.isFinite else {
            throw DecodeError(.invalidValue, index: index, "record \(index): bv + v is not a finite number")
        }
        guard ValueRange.contains(value) else {
            throw DecodeError(.valueOutOfRange, index: index, ValueRange.problem("record \(index): value \(value)"))
        }

        var time = pack.time
        if let t = record.t {
            let (sum, overflow) = time.addingReportingOverflow(try Self.seconds(t, "t", scanner, index))
            guard !overflow else { throw Self.timeOutOfRange(index) }
            time = sum
        }
        if time < Self.relativeTimeLimit {
            let (sum, overflow) = arrivalTime.addingReportingOverflow(time)
            guard !overflow else { throw Self.timeOutOfRange(index) }
            time = sum
        }
        guard time >= RFC3339.minAcceptedMicros, time <= RFC3339.maxAcceptedMicros else { throw Self.timeOutOfRange(index) }
        return Reading(device: device, metric: metric, value: value, timestamp: time)
    }

    private mutating func resolveNames(baseName: JSONString?, name: JSONString?, _ scanner: JSONScanner, index: Int) throws(DecodeError) -> (String, String) {
        try Self.withOptionalBytes(baseName, scanner) { (bn, bnCacheable) throws(DecodeError) -> (String, String) in
            try Self.withOptionalBytes(name, scanner) { (n, nCacheable) throws(DecodeError) -> (String, String) in
                var devicePart: UnsafeBufferPointer<UInt8>?
                var metricPart: UnsafeBufferPointer<UInt8>?
                var deviceCacheable = bnCacheable
                var metricCacheable = nCacheable
                if let n {
                    if let bn, !bn.isEmpty {
                        let last = bn[bn.count - 1]
                        devicePart = last == 0x2F || last == 0x3A ? UnsafeBufferPointer(rebasing: bn.dropLast()) : bn
                        metricPart = n
                    } else {
                        (devicePart, metricPart) = Self.split(n)
                        deviceCacheable = nCacheable
                    }
                } else if let bn, !bn.isEmpty {
                    (devicePart, metricPart) = Self.split(bn)
                    metricCacheable = bnCacheable
                }
                // An empty part names nothing: the topic's name applies, or it is missing.
                if devicePart?.isEmpty == true { devicePart = nil }
                if metricPart?.isEmpty == true { metricPart = nil }
                let device = try names.nameOrTopic(.device, devicePart, cacheable: deviceCacheable, noun: "record", index: index)
                let metric = try names.nameOrTopic(.metric, metricPart, cacheable: metricCacheable, noun: "record", index: index)
                return (device, metric)
            }
        }
    }

    /// A full name split at its last `/` or `:` into (device, metric); no device part
    /// when it has neither.
    private static func split(_ name: UnsafeBufferPointer<UInt8>) -> (UnsafeBufferPointer<UInt8>?, UnsafeBufferPointer<UInt8>) {
        var i = name.count - 1
        while i >= 0 {
            let b = name[i]
            if b == 0x2F || b == 0x3A {
                return (UnsafeBufferPointer(rebasing: name[..<i]), UnsafeBufferPointer(rebasing: name[(i + 1)...]))
            }
            i -= 1
        }
        return (nil, name)
    }

    @inline(__always)
    private static func withOptionalBytes<R>(_ string: JSONString?, _ scanner: JSONScanner,
                                             _ body: (UnsafeBufferPointer<UInt8>?, Bool) throws(DecodeError) -> R) throws(DecodeError) -> R {
        guard let string else { return try body(nil, false) }
        return try scanner.withBytes(string) { (bytes, cacheable) throws(DecodeError) -> R in try body(bytes, cacheable) }
    }

    private static func number(_ value: JSONValue, _ field: StaticString, _ scanner: JSONScanner, _ index: Int) throws(DecodeError) -> Double {
        if case .number(let number) = value {
            let double = scanner.double(number)
            if double.isFinite { return double }
        }
        throw DecodeError(.invalidValue, index: index, "record \(index): \(field) \(scanner.snippet(value)) is not a finite number")
    }

    private static func seconds(_ value: JSONValue, _ field: StaticString, _ scanner: JSONScanner, _ index: Int) throws(DecodeError) -> Int64 {
        if case .number(let number) = value, let micros = number.decimal.microseconds() { return micros }
        throw DecodeError(.invalidTimestamp, index: index, "record \(index): \(field) \(scanner.snippet(value)) is not a number of seconds in range")
    }

    private static func timeOutOfRange(_ index: Int) -> DecodeError {
        DecodeError(.invalidTimestamp, index: index, "record \(index): time bt + t is outside 1970-01-01..9999-12-31")
    }
}
