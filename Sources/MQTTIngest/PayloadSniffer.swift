internal import SensorCore

/// Recognises a payload's format from its first bytes, without decoding it.
enum PayloadSniffer {
    /// Keys that can open a SenML record (RFC 8428 §4).
    private static let senMLKeys: Set<String> = [
        "bn", "bt", "bu", "bv", "bs", "bver", "n", "u", "v", "vs", "vb", "vd", "s", "t", "ut",
    ]

    static func format(of payload: UnsafeRawBufferPointer) -> PayloadFormat {
        var index = skipSpace(payload, from: 0)
        // A UTF-8 byte order mark is whitespace to JSON.
        if payload.count >= index + 3, payload[index] == 0xEF, payload[index + 1] == 0xBB, payload[index + 2] == 0xBF {
            index = skipSpace(payload, from: index + 3)
        }
        guard index < payload.count else { return .json }
        switch payload[index] {
        case UInt8(ascii: "{"):
            return .json
        case UInt8(ascii: "["):
            return firstKeyIsSenML(payload, after: index) ? .senml : .json
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."):
            return .bareNumber
        case UInt8(ascii: "N"), UInt8(ascii: "I"), UInt8(ascii: "n"), UInt8(ascii: "i"):
            // NaN / Infinity spelled out: a (rejected) bare number, not a measurement name.
            let word = String(decoding: payload[index...].prefix(8), as: UTF8.self).lowercased()
            return word.hasPrefix("nan") || word.hasPrefix("inf") ? .bareNumber : .lineProtocol
        default:
            return .lineProtocol
        }
    }

    private static func skipSpace(_ payload: UnsafeRawBufferPointer, from start: Int) -> Int {
        var index = start
        while index < payload.count, [0x20, 0x09, 0x0A, 0x0D].contains(payload[index]) { index += 1 }
        return index
    }

    /// Reads `[ {"key"` and looks the key up; escapes in a key mean it is not a SenML key.
    private static func firstKeyIsSenML(_ payload: UnsafeRawBufferPointer, after bracket: Int) -> Bool {
        var index = skipSpace(payload, from: bracket + 1)
        guard index < payload.count, payload[index] == UInt8(ascii: "{") else { return false }
        index = skipSpace(payload, from: index + 1)
        guard index < payload.count, payload[index] == UInt8(ascii: "\"") else { return false }
        let start = index + 1
        var end = start
        while end < payload.count, payload[end] != UInt8(ascii: "\""), payload[end] != UInt8(ascii: "\\"), end - start < 8 {
            end += 1
        }
        guard end < payload.count, payload[end] == UInt8(ascii: "\"") else { return false }
        return senMLKeys.contains(String(decoding: payload[start..<end], as: UTF8.self))
    }
}
