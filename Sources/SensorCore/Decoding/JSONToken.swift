/// A string token: the bytes between the quotes, still escaped when `escaped`.
struct JSONString {
    var start: Int
    var end: Int
    var escaped: Bool
}

/// A number token with its digits accumulated.
struct JSONNumber {
    var start: Int
    var end: Int
    var decimal: DecimalNumber
    /// No fraction and no exponent in the spelling.
    var isInteger: Bool
}

/// A scanned value of a field the decoders know.
enum JSONValue {
    enum Kind {
        case object, array, boolean, null
    }

    case string(JSONString)
    case number(JSONNumber)
    case other(Kind, start: Int, end: Int)
}

/// Reading tokens back: names, numbers and text for messages.
extension JSONScanner {
    /// The UTF-8 bytes a validated string token stands for, escapes resolved. Allocates;
    /// only for the rare escaped key or name.
    func unescaped(_ string: JSONString) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(string.end - string.start)
        var p = string.start
        while p < string.end {
            let b = base[p]
            guard b == 0x5C else { out.append(b); p += 1; continue }
            let e = base[p + 1]
            p += 2
            switch e {
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                var scalar = hex4(p) ?? 0xFFFD
                p += 4
                if scalar >= 0xD800, scalar <= 0xDBFF {
                    let low = hex4(p + 2) ?? 0xDC00
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    p += 6
                }
                out.append(contentsOf: Unicode.Scalar(scalar).map { Array(String($0).utf8) } ?? [0xEF, 0xBF, 0xBD])
            default: out.append(e)  // " \ /
            }
        }
        return out
    }

    /// The raw text of `start..<end`, for messages: at most 40 bytes, then `…`.
    func snippet(_ start: Int, _ end: Int) -> String {
        let shown = min(end - start, 40)
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: shown), as: UTF8.self)
        return shown < end - start ? text + "…" : text
    }

    /// Whether an unescaped string token spells `literal` exactly.
    @inline(__always)
    func equals(_ string: JSONString, _ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard string.end - string.start == count else { return false }
        let text = literal.utf8Start
        var i = 0
        while i < count {
            if base[string.start + i] != text[i] { return false }
            i += 1
        }
        return true
    }

    /// Calls `body` with the bytes a string token stands for: in place when unescaped
    /// (`true`: they point into the payload buffer and may be cached), else a decoded copy.
    @inline(__always)
    func withBytes<R>(_ string: JSONString, _ body: (UnsafeBufferPointer<UInt8>, Bool) throws(DecodeError) -> R) throws(DecodeError) -> R {
        if !string.escaped {
            return try body(UnsafeBufferPointer(start: base + string.start, count: string.end - string.start), true)
        }
        let bytes = unescaped(string)
        return try bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(DecodeError) -> R in try body(buffer, false) }
        }.get()
    }

    /// The raw text of a value token, for messages (strings with their quotes).
    func snippet(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): snippet(s.start - 1, s.end + 1)
        case .number(let n): snippet(n.start, n.end)
        case .other(_, let start, let end): snippet(start, end)
        }
    }

    /// The double a number token spells (±∞ when too large for a finite double).
    @inline(__always)
    func double(_ number: JSONNumber) -> Double {
        number.decimal.double(text: base + number.start, count: number.end - number.start)
    }
}
