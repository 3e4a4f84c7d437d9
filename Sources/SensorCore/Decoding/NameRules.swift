#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The device and metric name rules of CONTRACT §2 and the shared checks every decoder
/// applies to a resolved name: charset and length, then agreement with the MQTT topic.
///
/// - device: 1–128 bytes of `[A-Za-z0-9._:-]`
/// - metric: 1–128 bytes of `[A-Za-z0-9._-]`
enum NameKind {
    case device, metric

    static let maxLength = 128

    /// Allowed bytes 0–63 and 64–127 as bitmaps.
    @inline(__always) private var lowMask: UInt64 {
        switch self {
        case .device: 0x07FF_6000_0000_0000  // - . 0-9 :
        case .metric: 0x03FF_6000_0000_0000  // - . 0-9
        }
    }

    private static let highMask: UInt64 = 0x07FF_FFFE_87FF_FFFE  // A-Z _ a-z

    @inline(__always)
    func allows(_ byte: UInt8) -> Bool {
        if byte < 64 { return (lowMask >> UInt64(byte)) & 1 != 0 }
        if byte < 128 { return (Self.highMask >> UInt64(byte - 64)) & 1 != 0 }
        return false
    }

    @inline(__always)
    func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count >= 1, bytes.count <= Self.maxLength, let start = bytes.baseAddress else { return false }
        var i = 0
        while i < bytes.count {
            if !allows(start[i]) { return false }
            i += 1
        }
        return true
    }

    var name: String { self == .device ? "device" : "metric" }
    var reason: RejectReason { self == .device ? .invalidDevice : .invalidMetric }
    var charset: String { self == .device ? "[A-Za-z0-9._:-]" : "[A-Za-z0-9._-]" }

    /// Why `bytes` is not a valid name, for the message after `item N: `.
    func problem(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        if bytes.isEmpty { return "\(name) is empty; it must be 1-\(Self.maxLength) characters of \(charset)" }
        if bytes.count > Self.maxLength {
            return "\(name) is \(bytes.count) bytes long; at most \(Self.maxLength) characters of \(charset) are allowed"
        }
        let shown = String(decoding: bytes, as: UTF8.self)
        return "\(name) \"\(shown)\" has a character outside \(charset)"
    }
}

/// One remembered name: consecutive items usually repeat the device and metric, so a
/// byte compare against the last one avoids re-validating it and re-creating its String
/// (names longer than 15 bytes are not inline strings and would allocate).
///
/// The remembered pointer points into the payload buffer, valid for one decode call.
struct NameCache {
    private var start: UnsafePointer<UInt8>?
    private var count = -1
    private var string = ""

    @inline(__always)
    func lookup(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard bytes.count == count, let cached = start, let p = bytes.baseAddress else { return nil }
        if p == cached || memcmp(p, cached, count) == 0 { return string }
        return nil
    }

    @inline(__always)
    mutating func store(_ bytes: UnsafeBufferPointer<UInt8>, _ string: String) {
        start = bytes.baseAddress
        count = bytes.count
        self.string = string
    }
}

/// Resolves names against the rules, the caches and the topic: the single place that
/// turns name bytes into `String`s for all decoders.
struct NameResolver {
    let context: DecodeContext
    private var devices = NameCache()
    private var metrics = NameCache()

    init(context: DecodeContext) {
        self.context = context
    }

    /// Checks the topic's own names once per payload.
    static func validateContext(_ context: DecodeContext) throws(DecodeError) {
        for (kind, value) in [(NameKind.device, context.device), (.metric, context.metric)] {
            guard var value else { continue }
            let problem: String? = value.withUTF8 { kind.isValid($0) ? nil : kind.problem($0) }
            if let problem { throw DecodeError(kind.reason, index: nil, "topic \(problem)") }
        }
    }

    /// The device or metric String for name bytes taken from the payload (`cacheable`
    /// when they point into the payload buffer), validated and checked against the topic.
    @inline(__always)
    mutating func name(_ kind: NameKind, _ bytes: UnsafeBufferPointer<UInt8>, cacheable: Bool,
                       noun: StaticString, index: Int) throws(DecodeError) -> String {
        if let hit = kind == .device ? devices.lookup(bytes) : metrics.lookup(bytes) { return hit }
        let string = try resolve(kind, bytes, noun: noun, index: index)
        if cacheable {
            if kind == .device { devices.store(bytes, string) } else { metrics.store(bytes, string) }
        }
        return string
    }

    /// ``name(_:_:cacheable:noun:index:)`` for `bytes`, or ``topicName(_:noun:index:)``
    /// when there are none.
    @inline(__always)
    mutating func nameOrTopic(_ kind: NameKind, _ bytes: UnsafeBufferPointer<UInt8>?, cacheable: Bool,
                              noun: StaticString, index: Int) throws(DecodeError) -> String {
        guard let bytes else { return try topicName(kind, noun: noun, index: index) }
        return try name(kind, bytes, cacheable: cacheable, noun: noun, index: index)
    }

    /// The topic's device or metric when the item names none, else `invalid_device` or
    /// `invalid_metric`.
    @inline(__always)
    func topicName(_ kind: NameKind, noun: StaticString, index: Int) throws(DecodeError) -> String {
        guard let name = topic(kind) else { throw Self.missing(kind, noun: noun, index: index) }
        return name
    }

    @inline(never)
    private static func missing(_ kind: NameKind, noun: StaticString, index: Int) -> DecodeError {
        DecodeError(kind.reason, index: index, "\(noun) \(index): missing \(kind.name)")
    }

    /// Validates a name built by the decoder (line protocol's `measurement.field`) and
    /// checks it against the topic. Out of line: only a cache miss gets here, and inlined
    /// it keeps line protocol's hot loop from inlining its cache lookup.
    @inline(never)
    func validated(_ kind: NameKind, _ string: String, noun: StaticString, index: Int) throws(DecodeError) -> String {
        var copy = string
        return try copy.withUTF8 { bytes in
            Result { () throws(DecodeError) -> String in
                try resolve(kind, bytes, noun: noun, index: index)
            }
        }.get()
    }

    /// The name the topic gives for `kind`, if any.
    @inline(__always)
    private func topic(_ kind: NameKind) -> String? {
        kind == .device ? context.device : context.metric
    }

    private func resolve(_ kind: NameKind, _ bytes: UnsafeBufferPointer<UInt8>, noun: StaticString, index: Int) throws(DecodeError) -> String {
        guard kind.isValid(bytes) else {
            throw DecodeError(kind.reason, index: index, "\(noun) \(index): \(kind.problem(bytes))")
        }
        let string = String(decoding: bytes, as: UTF8.self)
        if let expected = topic(kind), expected != string {
            throw DecodeError(.topicMismatch, index: index,
                              "\(noun) \(index): \(kind.name) \"\(string)\" does not match the topic's \(kind.name) \"\(expected)\"")
        }
        return string
    }
}

/// The name rules for names that come from elsewhere than a payload (a journal record):
/// whether bytes are a valid device or metric name.
public enum ReadingNames {
    public static func isValidDevice(_ bytes: UnsafeRawBufferPointer) -> Bool {
        NameKind.device.isValid(bytes.assumingMemoryBound(to: UInt8.self))
    }

    public static func isValidMetric(_ bytes: UnsafeRawBufferPointer) -> Bool {
        NameKind.metric.isValid(bytes.assumingMemoryBound(to: UInt8.self))
    }
}
