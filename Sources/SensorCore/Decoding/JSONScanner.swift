/// A strict RFC 8259 JSON tokenizer over a byte buffer: the cursor under the payload
/// decoders.
///
/// It validates as it goes — whitespace is only space/tab/LF/CR, strings are well-formed
/// UTF-8 without raw control characters, escapes are the RFC's (a `\uD800`–`\uDBFF`
/// escape must be followed by a low-surrogate escape, a lone surrogate is rejected),
/// numbers follow the exact JSON grammar (no leading zeros, `+`, `.5`, `NaN`, `Infinity`),
/// nesting is limited to ``maxDepth``. Any violation throws `malformed` with index nil and
/// the byte offset.
///
/// Cost: no allocation; strings are returned as positions in the buffer (``JSONString``)
/// and numbers as ``JSONNumber`` with their digits already accumulated. The buffer must
/// outlive the scanner and every token taken from it.
struct JSONScanner {
    let base: UnsafePointer<UInt8>
    /// One past the last byte this scanner may read.
    let end: Int
    /// Offset of the next byte to read.
    var pos: Int

    /// Deepest nesting of arrays/objects accepted inside a skipped value.
    static let maxDepth = 512

    init(base: UnsafePointer<UInt8>, start: Int, end: Int) {
        self.base = base
        self.pos = start
        self.end = end
    }

    @inline(__always) var atEnd: Bool { pos >= end }

    /// The next byte, or 0 at the end (0 is never valid where a token may start).
    @inline(__always) var peek: UInt8 { pos < end ? base[pos] : 0 }

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < end {
            let b = base[pos]
            guard b <= 0x20, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            pos &+= 1
        }
    }

    /// Skips a UTF-8 byte order mark at the start (RFC 8259 §8.1 allows ignoring one).
    mutating func skipByteOrderMark() {
        if end - pos >= 3, base[pos] == 0xEF, base[pos + 1] == 0xBB, base[pos + 2] == 0xBF { pos += 3 }
    }

    /// Consumes `byte` or throws a syntax error naming it.
    @inline(__always)
    mutating func expect(_ byte: UInt8, _ what: StaticString) throws(DecodeError) {
        guard pos < end, base[pos] == byte else { throw syntaxError(what) }
        pos &+= 1
    }

    @inline(never)
    func syntaxError(_ what: StaticString) -> DecodeError {
        var found: String
        if pos >= end {
            found = "end of input"
        } else {
            let b = base[pos]
            found = b >= 0x21 && b < 0x7F ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x\(String(b, radix: 16))"
            if b == 0x4E || b == 0x49 { found += " (NaN and Infinity are not JSON numbers)" }
        }
        return DecodeError(.malformed, index: nil, "malformed JSON at byte \(pos): expected \(what), found \(found)")
    }

    @inline(never)
    func syntaxError(at offset: Int, _ problem: StaticString) -> DecodeError {
        DecodeError(.malformed, index: nil, "malformed JSON at byte \(offset): \(problem)")
    }

    // MARK: - Strings

    /// Scans a string whose opening quote is at `pos`; leaves `pos` after the closing quote.
    @inline(__always)
    mutating func scanString() throws(DecodeError) -> JSONString {
        pos &+= 1
        let start = pos
        var escaped = false
        while true {
            // Eight bytes at a time while no quote, backslash, control or non-ASCII byte.
            while end &- pos >= 8 {
                let word = UInt64(littleEndian: UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self))
                let special = Self.specialBytes(word)
                if special != 0 {
                    pos &+= special.trailingZeroBitCount >> 3
                    break
                }
                pos &+= 8
            }
            guard pos < end else { throw syntaxError(at: start - 1, "unterminated string") }
            let b = base[pos]
            if b == 0x22 { break }
            if b == 0x5C {
                escaped = true
                try skipEscape()
            } else if b < 0x20 {
                throw syntaxError(at: pos, "control character in string (must be escaped)")
            } else if b >= 0x80 {
                try skipMultibyteScalar()
            } else {
                pos &+= 1
            }
        }
        let token = JSONString(start: start, end: pos, escaped: escaped)
        pos &+= 1
        return token
    }

    /// High bit set in each byte of `word` that is `"`, `\`, below 0x20 or ≥ 0x80; the
    /// lowest set bit is exact (borrows only run toward higher bytes).
    @inline(__always)
    static func specialBytes(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let hasQuote = (quote &- ones) & ~quote
        let hasBackslash = (backslash &- ones) & ~backslash
        let hasControl = (word &- ones &* 0x20) & ~word
        return (hasQuote | hasBackslash | hasControl | word) & highs
    }

    /// Validates the escape at `pos` (a backslash) and moves past it.
    private mutating func skipEscape() throws(DecodeError) {
        guard pos + 1 < end else { throw syntaxError(at: pos, "unterminated escape") }
        switch base[pos + 1] {
        case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:  // " \ / b f n r t
            pos += 2
        case 0x75:  // u
            guard let unit = hex4(pos + 2) else { throw syntaxError(at: pos, "invalid \\u escape") }
            if unit >= 0xD800, unit <= 0xDBFF {
                guard pos + 12 <= end, base[pos + 6] == 0x5C, base[pos + 7] == 0x75,
                      let low = hex4(pos + 8), low >= 0xDC00, low <= 0xDFFF
                else { throw syntaxError(at: pos, "high surrogate escape without a low surrogate escape") }
                pos += 12
            } else if unit >= 0xDC00, unit <= 0xDFFF {
                throw syntaxError(at: pos, "low surrogate escape without a high surrogate escape")
            } else {
                pos += 6
            }
        default:
            throw syntaxError(at: pos, "invalid escape in string")
        }
    }

    /// The value of four hex digits at `offset`, nil when not four hex digits.
    func hex4(_ offset: Int) -> UInt32? {
        guard offset + 4 <= end else { return nil }
        var value: UInt32 = 0
        for i in offset..<offset + 4 {
            let b = base[i]
            let digit: UInt8
            switch b {
            case 0x30...0x39: digit = b - 0x30
            case 0x41...0x46: digit = b - 0x41 + 10
            case 0x61...0x66: digit = b - 0x61 + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Validates one multi-byte UTF-8 scalar at `pos` (Unicode 15 table 3-7).
    private mutating func skipMultibyteScalar() throws(DecodeError) {
        let b0 = base[pos]
        @inline(__always) func continuation(_ i: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            i < end && base[i] >= low && base[i] <= high
        }
        let length: Int
        switch b0 {
        case 0xC2...0xDF:
            length = continuation(pos + 1) ? 2 : 0
        case 0xE0:
            length = continuation(pos + 1, 0xA0) && continuation(pos + 2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF:
            length = continuation(pos + 1) && continuation(pos + 2) ? 3 : 0
        case 0xED:
            length = continuation(pos + 1, 0x80, 0x9F) && continuation(pos + 2) ? 3 : 0
        case 0xF0:
            length = continuation(pos + 1, 0x90) && continuation(pos + 2) && continuation(pos + 3) ? 4 : 0
        case 0xF1...0xF3:
            length = continuation(pos + 1) && continuation(pos + 2) && continuation(pos + 3) ? 4 : 0
        case 0xF4:
            length = continuation(pos + 1, 0x80, 0x8F) && continuation(pos + 2) && continuation(pos + 3) ? 4 : 0
        default:
            length = 0
        }
        guard length > 0 else { throw syntaxError(at: pos, "invalid UTF-8 in string") }
        pos += length
    }

    // MARK: - Numbers

    /// Scans a number at `pos` (a `-` or a digit) with the exact JSON grammar.
    @inline(__always)
    mutating func scanNumber() throws(DecodeError) -> JSONNumber {
        let start = pos
        var p = pos
        var decimal = DecimalNumber()
        if base[p] == 0x2D {
            decimal.negative = true
            p &+= 1
        }
        guard p < end else { pos = p; throw syntaxError("a digit") }
        let first = base[p] &- 0x30
        if first == 0 {
            p &+= 1
            if p < end, base[p] &- 0x30 < 10 { throw syntaxError(at: p, "leading zero in number") }
        } else if first < 10 {
            repeat {
                decimal.appendIntegerDigit(base[p] &- 0x30)
                p &+= 1
            } while p < end && base[p] &- 0x30 < 10
        } else {
            pos = p
            throw syntaxError("a digit")
        }
        var isInteger = true
        if p < end, base[p] == 0x2E {
            isInteger = false
            p &+= 1
            guard p < end, base[p] &- 0x30 < 10 else { pos = p; throw syntaxError("a digit after the decimal point") }
            repeat {
                decimal.appendFractionDigit(base[p] &- 0x30)
                p &+= 1
            } while p < end && base[p] &- 0x30 < 10
        }
        if p < end, base[p] | 0x20 == 0x65 {  // e E
            isInteger = false
            p &+= 1
            var negativeExponent = false
            if p < end, base[p] == 0x2B || base[p] == 0x2D {
                negativeExponent = base[p] == 0x2D
                p &+= 1
            }
            guard p < end, base[p] &- 0x30 < 10 else { pos = p; throw syntaxError("a digit in the exponent") }
            var exponent = 0
            repeat {
                if exponent < DecimalNumber.exponentLimit { exponent = exponent * 10 + Int(base[p] &- 0x30) }
                p &+= 1
            } while p < end && base[p] &- 0x30 < 10
            decimal.exponent += negativeExponent ? -exponent : exponent
        }
        pos = p
        return JSONNumber(start: start, end: p, decimal: decimal, isInteger: isInteger)
    }

    // MARK: - Containers

    /// Scans the object whose `{` is at `pos` and leaves `pos` after its `}`. For each
    /// member, `member` gets the key, the scanner at the value (whitespace skipped) and
    /// `fields`, where it may keep what it reads; it must consume exactly that value.
    ///
    /// `fields` is passed through rather than captured: a captured variable is copied
    /// when the caller passes it on afterwards, and a captured array is re-checked for
    /// uniqueness on every append.
    @inline(__always)
    mutating func scanObject<Fields>(
        into fields: inout Fields,
        _ member: (_ key: JSONString, _ scanner: inout JSONScanner, _ fields: inout Fields) throws(DecodeError) -> Void
    ) throws(DecodeError) {
        pos += 1
        skipWhitespace()
        if peek == 0x7D { pos += 1; return }
        while true {
            guard peek == 0x22 else { throw syntaxError("a string key") }
            let key = try scanString()
            skipWhitespace()
            try expect(0x3A, "':'")
            skipWhitespace()
            try member(key, &self, &fields)
            skipWhitespace()
            let b = peek
            if b == 0x2C { pos += 1; skipWhitespace(); continue }
            if b == 0x7D { pos += 1; return }
            throw syntaxError("',' or '}'")
        }
    }

    /// Scans the array whose `[` is at `pos` and leaves `pos` after its `]`. `element`
    /// gets each element's 0-based index, the scanner at it (whitespace skipped) and
    /// `items`, where it may keep what it reads; it must consume exactly that element.
    /// (`items` is passed through for the reason given at ``scanObject(into:_:)``.)
    @inline(__always)
    mutating func scanArray<Items>(
        into items: inout Items,
        _ element: (_ index: Int, _ scanner: inout JSONScanner, _ items: inout Items) throws(DecodeError) -> Void
    ) throws(DecodeError) {
        pos += 1
        skipWhitespace()
        if peek == 0x5D { pos += 1; return }
        var index = 0
        while true {
            try element(index, &self, &items)
            index &+= 1
            skipWhitespace()
            let b = peek
            if b == 0x2C { pos += 1; skipWhitespace(); continue }
            if b == 0x5D { pos += 1; return }
            throw syntaxError("',' or ']'")
        }
    }

    // MARK: - Values

    /// Scans any value at `pos`, keeping strings and numbers as tokens.
    @inline(__always)
    mutating func scanValue() throws(DecodeError) -> JSONValue {
        let b = peek
        if b == 0x22 { return .string(try scanString()) }
        if b == 0x2D || b &- 0x30 < 10 { return .number(try scanNumber()) }
        let start = pos
        try skipValue()
        let kind: JSONValue.Kind
        switch b {
        case 0x7B: kind = .object
        case 0x5B: kind = .array
        case 0x6E: kind = .null
        default: kind = .boolean
        }
        return .other(kind, start: start, end: pos)
    }

    /// Scans the value at `pos` into `slot`, the field `name` of item `index` (called a
    /// `noun` in messages); `malformed` when the item already had that field.
    @inline(__always)
    mutating func scanField(_ slot: inout JSONValue?, _ name: StaticString, noun: StaticString, index: Int) throws(DecodeError) {
        guard slot == nil else {
            throw DecodeError(.malformed, index: index, "\(noun) \(index): duplicate key \"\(name)\"")
        }
        slot = try scanValue()
    }

    /// Validates and skips one value of any kind at `pos`.
    mutating func skipValue(depth: Int = 0) throws(DecodeError) {
        switch peek {
        case 0x22:
            _ = try scanString()
        case 0x2D, 0x30...0x39:
            _ = try scanNumber()
        case 0x7B:
            guard depth < Self.maxDepth else { throw syntaxError(at: pos, "nesting too deep") }
            var none: Void = ()
            try scanObject(into: &none) { (_, scanner, _) throws(DecodeError) in try scanner.skipValue(depth: depth + 1) }
        case 0x5B:
            guard depth < Self.maxDepth else { throw syntaxError(at: pos, "nesting too deep") }
            var none: Void = ()
            try scanArray(into: &none) { (_, scanner, _) throws(DecodeError) in try scanner.skipValue(depth: depth + 1) }
        case 0x74: try skipLiteral("true")
        case 0x66: try skipLiteral("false")
        case 0x6E: try skipLiteral("null")
        default:
            throw syntaxError("a JSON value")
        }
    }

    private mutating func skipLiteral(_ literal: StaticString) throws(DecodeError) {
        let count = literal.utf8CodeUnitCount
        guard end - pos >= count else { throw syntaxError(at: pos, "invalid literal") }
        let text = literal.utf8Start
        for i in 0..<count where base[pos + i] != text[i] {
            throw syntaxError(at: pos, "invalid literal (JSON has only true, false and null)")
        }
        pos += count
    }

    /// Whether the whole range holds exactly one valid JSON value (with surrounding
    /// whitespace and an optional byte order mark); throws the first syntax error.
    static func validateDocument(base: UnsafePointer<UInt8>, start: Int, end: Int) throws(DecodeError) {
        var scanner = JSONScanner(base: base, start: start, end: end)
        scanner.skipByteOrderMark()
        scanner.skipWhitespace()
        try scanner.skipValue()
        scanner.skipWhitespace()
        guard scanner.atEnd else { throw scanner.syntaxError("end of input after the JSON value") }
    }
}
