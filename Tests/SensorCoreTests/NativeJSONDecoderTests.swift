import SensorCore
import Testing

@Suite struct NativeJSONDecoderTests {
    typealias R = Reading

    // MARK: - Good input

    @Test func singleObjectGivesExactReading() {
        let readings = decoded(#"{"device":"d1","metric":"temp","value":21.5,"ts":1764165600.25,"seq":7}"#, .json)
        #expect(readings == [R(device: "d1", metric: "temp", value: 21.5, timestamp: 1_764_165_600_250_000, seq: 7)])
    }

    @Test func arrayKeepsOrderAndFields() {
        let readings = decoded("""
        [ {"device":"d1","metric":"temp","value":21.375,"ts":1764165600},
          {"metric":"hum","device":"d-2.x_y:z","value":-1.5e-3,"seq":0},
          {"device":"d1","metric":"temp","value":0,"ts":"2025-11-26T14:00:00Z","seq":18446744073709551615} ]
        """, .json)
        #expect(readings == [
            R(device: "d1", metric: "temp", value: 21.375, timestamp: Fixture.t0),
            R(device: "d-2.x_y:z", metric: "hum", value: -0.0015, timestamp: Fixture.arrival, seq: 0),
            R(device: "d1", metric: "temp", value: 0, timestamp: Fixture.t0, seq: UInt64.max),
        ])
    }

    @Test func emptyArrayGivesNoReadings() {
        #expect(decoded("[]", .json).isEmpty)
        #expect(decoded(" [ ] \n", .json).isEmpty)
    }

    @Test(arguments: [
        ("1764165600.25", 1_764_165_600_250_000 as Int64),
        ("1764165600", 1_764_165_600_000_000),
        ("1.7641656e9", 1_764_165_600_000_000),
        ("1764165600.0000005", 1_764_165_600_000_001),  // half a µs rounds up
        ("1764165600.0000004999", 1_764_165_600_000_000),
        ("1764165600.123456789", 1_764_165_600_123_457),
        ("176416560025e-2", 1_764_165_600_250_000),
        ("1764165600.25000000000000000000000001", 1_764_165_600_250_000),
        ("0", 0),
        ("-0", 0),
        ("253402300799.999999", 253_402_300_799_999_999),
        (#""2025-11-26T14:00:00Z""#, 1_764_165_600_000_000),
        (#""2025-11-26t14:00:00z""#, 1_764_165_600_000_000),
        (#""2025-11-26T14:00:00.123456+01:00""#, 1_764_162_000_123_456),  // date -u -d
        (#""2025-11-26T14:00:00.1234567Z""#, 1_764_165_600_123_456),  // beyond µs truncated
        (#""2025-11-26T14:00:00.25-00:30""#, 1_764_167_400_250_000),
        (#""1970-01-01T00:00:00Z""#, 0),
    ])
    func timestampForms(ts: String, micros: Int64) {
        let readings = decoded(#"{"device":"d","metric":"m","value":1,"ts":\#(ts)}"#, .json)
        #expect(readings.map(\.timestamp) == [micros], "ts \(ts)")
    }

    @Test func unknownKeysAreSkippedWithFullValidation() {
        let readings = decoded(#"""
        {"meta":{"a":[1,2.5e-3,{"b":null}],"c":"x\u00e9\ud83d\ude00 é \" \\ \/ \b\f\n\r\t"},
         "device":"d","flags":[true,false,null,[],{}],"metric":"m","value":-0.0,"n":-12E+2,"s":""}
        """#, .json)
        #expect(readings.count == 1)
        #expect(readings.first?.value == 0 && readings.first?.value.sign == .minus)
    }

    @Test func escapedNamesAndKeysAreDecoded() {
        let readings = decoded(#"{"dev\u0069ce":"d\u0031","metric":"te\u006dp","v\u0061lue":2}"#, .json)
        #expect(readings == [R(device: "d1", metric: "temp", value: 2, timestamp: Fixture.arrival)])
    }

    @Test func longestNamesAreAccepted() {
        let device = String(repeating: "d", count: 128)
        let metric = String(repeating: "m", count: 128)
        let readings = decoded(#"{"device":"\#(device)","metric":"\#(metric)","value":1}"#, .json)
        #expect(readings.first?.device == device && readings.first?.metric == metric)
    }

    @Test func topicSuppliesMissingNames() {
        let context = Fixture.topic("d1", "temp")
        let readings = decoded(#"[{"value":1},{"device":"d1","value":2},{"device":"d1","metric":"temp","value":3}]"#, .json, context)
        #expect(readings.map(\.device) == ["d1", "d1", "d1"])
        #expect(readings.map(\.metric) == ["temp", "temp", "temp"])
        let deviceOnly = decoded(#"{"metric":"hum","value":1}"#, .json, Fixture.topic("d1"))
        #expect(deviceOnly == [R(device: "d1", metric: "hum", value: 1, timestamp: Fixture.arrival)])
    }

    @Test func hundredReadingBatchDecodes() {
        let readings = decoded(nativeBatch(count: 100), .json)
        #expect(readings.count == 100)
        #expect(readings.last == R(device: "dev-0042", metric: "temp", value: 21.375, timestamp: 1_764_165_600_250_000, seq: 99))
    }

    // MARK: - Bad items

    @Test func badItemInTheMiddleNamesItsIndex() {
        let good = #"{"device":"d","metric":"m","value":1}"#
        expectRejected("[\(good),\(good),{\"device\":\"d\",\"metric\":\"m\",\"value\":\"abc\"},\(good)]", .json,
                       reason: .invalidValue, index: 2, messageContains: #"item 2: value "abc" is not a finite number"#)
    }

    @Test(arguments: [
        (#""value":"21.5""#, RejectReason.invalidValue),
        (#""value":true"#, .invalidValue),
        (#""value":null"#, .invalidValue),
        (#""value":{"v":1}"#, .invalidValue),
        (#""value":[1]"#, .invalidValue),
        (#""value":1e999"#, .invalidValue),
        (#""value":-1e400"#, .invalidValue),
        (#""value":1,"seq":-1"#, .invalidSeq),
        (#""value":1,"seq":1.5"#, .invalidSeq),
        (#""value":1,"seq":1e2"#, .invalidSeq),
        (#""value":1,"seq":1.0"#, .invalidSeq),
        (#""value":1,"seq":18446744073709551616"#, .invalidSeq),
        (#""value":1,"seq":"7""#, .invalidSeq),
        (#""value":1,"seq":null"#, .invalidSeq),
        (#""value":1,"ts":"yesterday""#, .invalidTimestamp),
        (#""value":1,"ts":-1"#, .invalidTimestamp),
        (#""value":1,"ts":253402300800"#, .invalidTimestamp),
        (#""value":1,"ts":1e300"#, .invalidTimestamp),
        (#""value":1,"ts":true"#, .invalidTimestamp),
        (#""value":1,"ts":null"#, .invalidTimestamp),
        (#""value":1,"ts":"1969-12-31T23:59:59Z""#, .invalidTimestamp),
        (#""value":1,"ts":"2025-02-30T00:00:00Z""#, .invalidTimestamp),
        (#""value":1,"ts":"2025-11-26 14:00:00Z""#, .invalidTimestamp),
        (#""value":1,"ts":"2025-11-26T14:00:00""#, .invalidTimestamp),
    ])
    func badFieldIsRejectedWithItsReason(fields: String, reason: RejectReason) {
        expectRejected(#"[{"device":"d","metric":"m","value":1},{"device":"d","metric":"m",\#(fields)}]"#, .json, reason: reason, index: 1)
    }

    @Test func missingValueIsInvalidValue() {
        expectRejected(#"{"device":"d","metric":"m"}"#, .json, reason: .invalidValue, index: 0, messageContains: "missing value")
    }

    @Test(arguments: [
        (#"{"device":"bad dev","metric":"m","value":1}"#, RejectReason.invalidDevice, "character outside"),
        ("{\"device\":\"\(String(repeating: "x", count: 129))\",\"metric\":\"m\",\"value\":1}", .invalidDevice, "129"),
        (#"{"device":"","metric":"m","value":1}"#, .invalidDevice, "empty"),
        (#"{"device":"a/b","metric":"m","value":1}"#, .invalidDevice, "character outside"),
        (#"{"device":"dé","metric":"m","value":1}"#, .invalidDevice, "character outside"),
        (#"{"device":42,"metric":"m","value":1}"#, .invalidDevice, "must be a string"),
        (#"{"metric":"temp","value":1}"#, .invalidDevice, "missing device"),
        (#"{"device":"d","metric":"a:b","value":1}"#, .invalidMetric, "character outside"),
        ("{\"device\":\"d\",\"metric\":\"\(String(repeating: "m", count: 129))\",\"value\":1}", .invalidMetric, "129"),
        (#"{"device":"d","value":1}"#, .invalidMetric, "missing metric"),
        (#"{"device":"d","metric":null,"value":1}"#, .invalidMetric, "must be a string"),
    ])
    func badNamesAreRejected(object: String, reason: RejectReason, message: String) {
        expectRejected(object, .json, reason: reason, index: 0, messageContains: message)
    }

    @Test func duplicateKnownKeyIsMalformedWithIndex() {
        expectRejected(#"[{"device":"d","metric":"m","value":1},{"device":"d","metric":"m","value":1,"value":2}]"#, .json,
                       reason: .malformed, index: 1, messageContains: "duplicate key \"value\"")
        // Duplicate unknown keys are not our business.
        #expect(decoded(#"{"device":"d","metric":"m","value":1,"x":1,"x":2}"#, .json).count == 1)
    }

    @Test func arrayElementThatIsNotAnObjectIsMalformedWithIndex() {
        expectRejected(#"[{"device":"d","metric":"m","value":1},21.5]"#, .json, reason: .malformed, index: 1)
        expectRejected(#"[[{"device":"d","metric":"m","value":1}]]"#, .json, reason: .malformed, index: 0)
    }

    @Test func topicMismatch() {
        let context = Fixture.topic("d1", "temp")
        expectRejected(#"[{"value":1},{"device":"d2","value":2}]"#, .json, context,
                       reason: .topicMismatch, index: 1, messageContains: "d2")
        expectRejected(#"[{"value":1},{"metric":"hum","value":2}]"#, .json, context, reason: .topicMismatch, index: 1)
        expectRejected(#"{"device":"d2","metric":"hum","value":2}"#, .json, Fixture.topic("d1"), reason: .topicMismatch, index: 0)
        // A malformed name stays a malformed name, not a mismatch.
        expectRejected(#"{"device":"d 1","value":2}"#, .json, context, reason: .invalidDevice, index: 0)
    }

    @Test func invalidTopicNamesAreRejectedWithoutIndex() {
        expectRejected(#"{"value":1}"#, .json, Fixture.topic("bad dev", "temp"), reason: .invalidDevice, index: nil)
        expectRejected(#"{"value":1}"#, .json, Fixture.topic("d1", "a:b"), reason: .invalidMetric, index: nil)
    }

    // MARK: - Unparseable payloads

    @Test(arguments: [
        #"{"device":"d","metric":"m","value":NaN}"#,
        #"[{"device":"d","metric":"m","value":1},{"device":"d","metric":"m","value":NaN}]"#,
        #"{"device":"d","metric":"m","value":Infinity}"#,
        #"{"device":"d","metric":"m","value":-Infinity}"#,
        #"[{"device":"d","metric":"m","value":1},]"#,
        #"{"device":"d","metric":"m","value":1,}"#,
        #"{'device':'d','metric':'m','value':1}"#,
        #"{"device":"d","metric":"m","value":01}"#,
        #"{"device":"d","metric":"m","value":1} x"#,
        #"{"device":"d","metric":"m","value":1}{"device":"d","metric":"m","value":1}"#,
        #"{"device":"d","metric":"m","value":1"#,
        #"[{"device":"d","metric":"m","value":1}"#,
        #"{"device":"d","metric":"m","value":+1}"#,
        #"{"device":"d","metric":"m","value":.5}"#,
        #"{"device":"d","metric":"m","value":1.}"#,
        #"{device:"d","metric":"m","value":1}"#,
        "{\"device\":\"d\u{1}\",\"metric\":\"m\",\"value\":1}",
        #"{"device":"d\x","metric":"m","value":1}"#,
        #"{"device":"\ud800","metric":"m","value":1}"#,
        // A bad item followed by broken JSON: the body is not JSON at all.
        #"[{"device":"a b","metric":"m","value":1},{"#,
        "42",
        #""text""#,
        "null",
        "\u{0B}{\"device\":\"d\",\"metric\":\"m\",\"value\":1}",
    ])
    func unparseablePayloadHasNoIndex(payload: String) {
        expectRejected(payload, .json, reason: .malformed, index: nil)
    }

    @Test func emptyPayload() {
        expectRejected("", .json, reason: .malformed, index: nil, messageContains: "empty payload")
        expectRejected(" \r\n\t", .json, reason: .malformed, index: nil, messageContains: "empty payload")
        expectRejected("", .ndjson, reason: .malformed, index: nil, messageContains: "empty payload")
        expectRejected("\n\n", .ndjson, reason: .malformed, index: nil, messageContains: "empty payload")
    }

    @Test func invalidUTF8IsMalformed() throws {
        var bytes = Array(#"{"device":"d","metric":"m","value":1,"x":"ab"}"#.utf8)
        bytes[bytes.count - 3] = 0xC3  // a lead byte followed by 'b'
        #expect(throws: DecodeError.self) { try ReadingDecoder.decode(bytes, format: .json, context: Fixture.noTopic) }
        do {
            _ = try ReadingDecoder.decode(bytes, format: .json, context: Fixture.noTopic)
        } catch {
            #expect(error.reason == .malformed && error.index == nil)
        }
    }

    @Test func deepNestingIsRejectedNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        expectRejected(#"{"device":"d","metric":"m","value":1,"x":\#(deep)}"#, .json, reason: .malformed, index: nil)
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(decoded(#"{"device":"d","metric":"m","value":1,"x":\#(fine)}"#, .json).count == 1)
    }

    // MARK: - NDJSON

    @Test func ndjsonSkipsBlankLinesAndToleratesCRLF() {
        let readings = decoded("""
        {"device":"d1","metric":"temp","value":1}\r

          \t
        {"device":"d1","metric":"temp","value":2,"seq":3}\r
        {"device":"d2","metric":"hum","value":3}
        """, .ndjson)
        #expect(readings == [
            R(device: "d1", metric: "temp", value: 1, timestamp: Fixture.arrival),
            R(device: "d1", metric: "temp", value: 2, timestamp: Fixture.arrival, seq: 3),
            R(device: "d2", metric: "hum", value: 3, timestamp: Fixture.arrival),
        ])
    }

    @Test func ndjsonBadLineTwoHasIndexOneWhenBlankLinesPrecedeIt() {
        expectRejected("""

        {"device":"d1","metric":"temp","value":1}

        {"device":"d1","metric":"temp","value":"x"}
        {"device":"d1","metric":"temp","value":1}
        """, .ndjson, reason: .invalidValue, index: 1, messageContains: "item 1")
    }

    @Test func ndjsonSyntaxErrorNamesItsLine() {
        let good = #"{"device":"d","metric":"m","value":1}"#
        expectRejected("\(good)\n\(good)\n{\"device\":\"d\",\"metric\":\"m\",\"value\":NaN}\n", .ndjson,
                       reason: .malformed, index: 2)
        expectRejected("\(good)\n[\(good)]\n", .ndjson, reason: .malformed, index: 1)
        expectRejected("\(good) \(good)\n", .ndjson, reason: .malformed, index: 0)
        // An item error is reported even when a later line is broken: items are lines.
        expectRejected("{\"device\":\"d\",\"metric\":\"m\",\"value\":true}\n{\n", .ndjson, reason: .invalidValue, index: 0)
    }
}
