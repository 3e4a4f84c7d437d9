import SensorCore
import Testing

/// The strict JSON grammar and the number conversion, exercised through the public decoder:
/// values of an unknown key must be valid JSON, and a bare number's value must be the
/// correctly rounded double.
@Suite struct JSONScannerTests {
    private func object(with unknown: String) -> String {
        #"{"device":"d","metric":"m","value":1,"x":\#(unknown)}"#
    }

    @Test(arguments: [
        "0", "-0", "1.5e+3", "1E-2", "123456789012345678901234567890", "1e-400", "1e400",
        #""\"\\\/\b\f\n\r\t\u0041\u00e9""#, #""\ud83d\ude00""#, #""\uD83D\uDE00""#, "\"é😀\"", #""""#,
        "[]", "{}", "[1,[2,[3]]]", #"{"a":{"b":{}},"c":[{}]}"#, "true", "false", "null",
        " [ 1 , 2 ] ", "\t\n\r[\t\n\r]\t\n\r", #"{"":0}"#,
    ])
    func acceptsValidJSON(value: String) {
        #expect(decoded(object(with: value), .json).count == 1, "\(value)")
    }

    @Test(arguments: [
        "NaN", "Infinity", "-Infinity", "01", "-01", "1.", ".5", "+1", "1e", "1e+", "-", "0x10", "1.5.2", "--1",
        "'a'", #""\x""#, #""\u12""#, #""\u12G4""#, #""\ud800""#, #""\udc00x""#, #""\ud800\u0041""#,
        "[1,]", #"{"a":1,}"#, "[1 2]", #"{"a" 1}"#, "{a:1}", #"{"a":}"#, "[,1]", "tru", "True", "nul", "nulls",
        #""a"#, "\"tab\there\"", "\"nl\nhere\"", "undefined", "[", #"{"a":1"#, "]", "\u{00A0}1", "1 2",
    ])
    func rejectsInvalidJSONWithoutIndex(value: String) {
        expectRejected(object(with: value), .json, reason: .malformed, index: nil)
    }

    @Test(arguments: [
        [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],
        [0x80], [0xC3], [0xE2, 0x82], [0xFF],
    ] as [[UInt8]])
    func rejectsInvalidUTF8InStrings(sequence: [UInt8]) {
        let bytes = Array(#"{"device":"d","metric":"m","value":1,"x":""#.utf8) + sequence + Array(#""}"#.utf8)
        do {
            _ = try ReadingDecoder.decode(bytes, format: .json, context: Fixture.noTopic)
            Issue.record("accepted invalid UTF-8 \(sequence)")
        } catch {
            #expect(error.reason == .malformed && error.index == nil)
        }
    }

    @Test func acceptsValidMultibyteUTF8() throws {
        for scalar in ["\u{80}", "\u{7FF}", "\u{800}", "\u{FFFD}", "\u{10000}", "\u{10FFFF}", "\u{E000}"] {
            #expect(decoded(object(with: "\"\(scalar)\""), .json).count == 1, "\(scalar.unicodeScalars.first!.value)")
        }
    }

    @Test func acceptsAndIgnoresAByteOrderMark() {
        #expect(decoded("\u{FEFF}" + #"{"device":"d","metric":"m","value":1}"#, .json).count == 1)
    }

    // MARK: - Numbers

    private let topic = Fixture.topic("d", "m")

    /// The decoder's double for `text` is bit-identical to `Double(text)`; a number too
    /// large for a finite double is invalid_value, a finite one beyond ±1e100
    /// value_out_of_range.
    private func checkNumber(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        guard let expected = Double(text) else {
            Issue.record("test generated \(text), which Double(String) does not read", sourceLocation: sourceLocation)
            return false
        }
        do {
            let readings = try ReadingDecoder.decode(text, format: .bareNumber, context: topic)
            guard ValueRange.contains(expected), let value = readings.first?.value, value.bitPattern == expected.bitPattern else {
                Issue.record("\(text): decoded \(readings.first?.value as Any), Double(String) gives \(expected)",
                             sourceLocation: sourceLocation)
                return false
            }
        } catch {
            let reason: RejectReason = expected.isFinite ? .valueOutOfRange : .invalidValue
            guard !ValueRange.contains(expected), error.reason == reason else {
                Issue.record("\(text): \(error.message)", sourceLocation: sourceLocation)
                return false
            }
        }
        return true
    }

    @Test(arguments: [
        "0", "-0", "0.1", "0.2", "0.30000000000000004", "9007199254740993", "9007199254740992", "9007199254740991",
        "2.2250738585072011e-308", "2.2250738585072014e-308", "4.9406564584124654e-324", "2.4703282292062327e-324",
        "2.4703282292062328e-324", "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
        "1e23", "8.589973e9", "1e22", "1e-22", "123456789012345678e-5", "1234567890123456789012345678901234567890",
        "0.000000000000000000000000000000000000000000001", "7.038531e-26", "1e308", "1e309", "-1e309",
        "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791.9999999999999999999999999999999999999999999999999999999999999999999999",
    ])
    func knownHardNumbers(text: String) {
        #expect(checkNumber(text))
    }

    @Test func randomDecimalStringsMatchDoubleParsing() {
        var generator = SeededGenerator(seed: 8259)
        func digits(_ count: Int, firstNonZero: Bool) -> String {
            var s = ""
            for i in 0..<count {
                let d = Int.random(in: (i == 0 && firstNonZero ? 1 : 0)...9, using: &generator)
                s.append(Character(Unicode.Scalar(UInt8(48 + d))))
            }
            return s
        }
        var failures = 0
        for iteration in 0..<60_000 {
            var text = Bool.random(using: &generator) ? "-" : ""
            switch iteration % 4 {
            case 0:  // general grammar
                text += Int.random(in: 0..<5, using: &generator) == 0 ? "0" : digits(Int.random(in: 1...25, using: &generator), firstNonZero: true)
                if Bool.random(using: &generator) { text += "." + digits(Int.random(in: 1...25, using: &generator), firstNonZero: false) }
                if Int.random(in: 0..<5, using: &generator) < 2 {
                    text += ["e", "E"].randomElement(using: &generator)! + ["", "+", "-"].randomElement(using: &generator)!
                        + String(Int.random(in: 0...400, using: &generator))
                }
            case 1:  // 15-19 significant digits, small exponents: the fast-path boundary
                text += digits(Int.random(in: 15...19, using: &generator), firstNonZero: true)
                text += "e" + String(Int.random(in: -40...40, using: &generator))
            case 2:  // the shortest spelling of a random double, as producers print them
                let value = Double(bitPattern: UInt64.random(in: 0...0x7FEF_FFFF_FFFF_FFFF, using: &generator))
                text += "\(value)".replacingOccurrences(of: "e+", with: "e")
            default:  // near halfway: 17 digits of a random double, then 5 and noise
                let value = Double.random(in: 1..<10, using: &generator)
                let shortest = "\(value)"
                text += shortest + (shortest.contains("e") ? "" : "5" + digits(Int.random(in: 0...20, using: &generator), firstNonZero: false))
                text += "e" + String(Int.random(in: -300...300, using: &generator))
            }
            if !checkNumber(text) { failures += 1 }
            if failures > 10 { break }
        }
        #expect(failures == 0)
    }
}

private extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
