import SensorCore
import Testing

@Suite struct SenMLDecoderTests {
    typealias R = Reading

    private func names(_ payload: String, _ context: DecodeContext = Fixture.noTopic,
                       sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        decoded(payload, .senml, context, sourceLocation: sourceLocation).map { "\($0.device)|\($0.metric)" }
    }

    // MARK: - Names (CONTRACT §2 examples)

    @Test func baseNameEndingInSlashPlusName() {
        #expect(names(#"[{"bn":"dev/","n":"temp","v":1}]"#) == ["dev|temp"])
    }

    @Test func baseNameWithoutNameIsSplitAtLastSlash() {
        #expect(names(#"[{"bn":"dev/metric","v":1}]"#) == ["dev|metric"])
    }

    @Test func plainBaseNamePlusNameIsDeviceAndMetric() {
        #expect(names(#"[{"bn":"dev","n":"temp","v":1}]"#) == ["dev|temp"])
    }

    @Test func urnBaseNameEndingInColon() {
        #expect(names(#"[{"bn":"urn:dev:ow:10e2073a01080063:","n":"temp","v":23.1}]"#) == ["urn:dev:ow:10e2073a01080063|temp"])
        #expect(names(#"[{"bn":"urn:dev:ow:X:temp","v":23.1}]"#) == ["urn:dev:ow:X|temp"])
    }

    @Test func nameAloneIsSplitAtItsLastSeparator() {
        #expect(names(#"[{"n":"dev/temp","v":1},{"n":"a:b:hum","v":2},{"bn":"","n":"d3/x","v":3}]"#)
            == ["dev|temp", "a:b|hum", "d3|x"])
    }

    // MARK: - Carry-over, values and times

    @Test func baseFieldsCarryOverAndNameDoesNot() {
        let readings = decoded(#"""
        [{"bn":"d1/","bt":1764165600,"bu":"Cel","bver":10,"n":"temp","u":"Cel","v":21.5},
         {"n":"hum","v":40,"t":10,"ut":60,"s":3},
         {"bn":"d2/","bv":100,"n":"temp","v":-1.5,"t":0.25}]
        """#, .senml)
        #expect(readings == [
            R(device: "d1", metric: "temp", value: 21.5, timestamp: Fixture.t0),
            R(device: "d1", metric: "hum", value: 40, timestamp: Fixture.t0 + 10_000_000),
            R(device: "d2", metric: "temp", value: 98.5, timestamp: Fixture.t0 + 250_000),
        ])
        // `n` does not carry over: record 1 has only bn "d1/", which splits to an empty metric.
        expectRejected(#"[{"bn":"d1/","n":"temp","v":1},{"v":2}]"#, .senml, reason: .invalidMetric, index: 1,
                       messageContains: "missing metric")
    }

    @Test func baseValueIsAddedToEachLaterValue() {
        let values = decoded(#"[{"bn":"d/","bv":20,"n":"t","v":1.5},{"n":"t","v":2}]"#, .senml).map(\.value)
        #expect(values == [21.5, 22])
    }

    @Test func timesBelowTwoToThe28AreRelativeToArrival() {
        let readings = decoded(#"[{"bn":"d/","n":"a","v":1,"t":-5},{"n":"b","v":1},{"n":"c","v":1,"t":0},{"n":"d","v":1,"t":268435455.5}]"#, .senml)
        #expect(readings.map(\.timestamp) == [
            Fixture.arrival - 5_000_000, Fixture.arrival, Fixture.arrival, Fixture.arrival + 268_435_455_500_000,
        ])
        // 2^28 itself is absolute.
        #expect(decoded(#"[{"bn":"d/","n":"a","v":1,"t":268435456}]"#, .senml).map(\.timestamp) == [268_435_456_000_000])
        // bt + t is what counts: an absolute bt with a negative t stays absolute.
        #expect(decoded(#"[{"bn":"d/","bt":1764165600,"n":"a","v":1,"t":-0.5}]"#, .senml).map(\.timestamp)
            == [Fixture.t0 - 500_000])
    }

    @Test func emptyPackGivesNoReadings() {
        #expect(decoded("[]", .senml).isEmpty)
    }

    // MARK: - Rejections

    @Test(arguments: ["vs", "vb", "vd"])
    func nonNumericRecordIsInvalidValue(field: String) {
        let value = field == "vb" ? "true" : #""abc""#
        expectRejected(#"[{"bn":"d/","n":"a","v":1},{"n":"b","\#(field)":\#(value)},{"n":"c","v":3}]"#, .senml,
                       reason: .invalidValue, index: 1, messageContains: "non-numeric SenML value")
        // Even next to a numeric v.
        expectRejected(#"[{"bn":"d/","n":"a","v":1,"\#(field)":\#(value)}]"#, .senml, reason: .invalidValue, index: 0)
    }

    @Test func missingOrNonNumericValueIsInvalidValue() {
        expectRejected(#"[{"bn":"d/","n":"a"}]"#, .senml, reason: .invalidValue, index: 0, messageContains: "missing v")
        expectRejected(#"[{"bn":"d/","n":"a","s":5}]"#, .senml, reason: .invalidValue, index: 0)
        expectRejected(#"[{"bn":"d/","n":"a","v":"1"}]"#, .senml, reason: .invalidValue, index: 0)
        expectRejected(#"[{"bn":"d/","n":"a","v":1e999}]"#, .senml, reason: .invalidValue, index: 0)
        expectRejected(#"[{"bn":"d/","bv":1.7e308,"n":"a","v":1.7e308}]"#, .senml, reason: .invalidValue, index: 0)
        expectRejected(#"[{"bn":"d/","bv":"x","n":"a","v":1}]"#, .senml, reason: .invalidValue, index: 0)
    }

    @Test func badTimesAreInvalidTs() {
        expectRejected(#"[{"bn":"d/","n":"a","v":1,"t":"2025-11-26T14:00:00Z"}]"#, .senml, reason: .invalidTimestamp, index: 0)
        expectRejected(#"[{"bn":"d/","bt":1e12,"n":"a","v":1}]"#, .senml, reason: .invalidTimestamp, index: 0)
        expectRejected(#"[{"bn":"d/","n":"a","v":1},{"n":"a","v":1,"t":-1e300}]"#, .senml, reason: .invalidTimestamp, index: 1)
        // Relative to an arrival time near the epoch, a large negative offset is before 1970.
        let early = DecodeContext(arrivalTime: 1_000_000)
        expectRejected(#"[{"bn":"d/","n":"a","v":1,"t":-5}]"#, .senml, early, reason: .invalidTimestamp, index: 0)
    }

    @Test func badNames() {
        expectRejected(#"[{"n":"temp","v":1}]"#, .senml, reason: .invalidDevice, index: 0, messageContains: "missing device")
        expectRejected(#"[{"bn":"d/","n":"a","v":1},{"bn":"bad dev/","n":"a","v":1}]"#, .senml, reason: .invalidDevice, index: 1)
        expectRejected(#"[{"bn":"d/","n":"a:b","v":1}]"#, .senml, reason: .invalidMetric, index: 0)
        expectRejected(#"[{"bn":3,"n":"a","v":1}]"#, .senml, reason: .invalidDevice, index: 0)
        expectRejected(#"[{"bn":"d/","n":3,"v":1}]"#, .senml, reason: .invalidMetric, index: 0)
        expectRejected(#"[{"v":1}]"#, .senml, reason: .invalidDevice, index: 0)
    }

    @Test func topicGivesTheDeviceAndChecksNames() {
        let device = Fixture.topic("d1")
        #expect(names(#"[{"n":"temp","v":1},{"bn":"d1/","n":"hum","v":2},{"bn":"d1","n":"x","v":3}]"#, device)
            == ["d1|temp", "d1|hum", "d1|x"])
        expectRejected(#"[{"n":"temp","v":1},{"bn":"d2/","n":"hum","v":2}]"#, .senml, device,
                       reason: .topicMismatch, index: 1, messageContains: "d2")
        expectRejected(#"[{"n":"d2/temp","v":1}]"#, .senml, device, reason: .topicMismatch, index: 0)

        let both = Fixture.topic("d1", "temp")
        #expect(names(#"[{"v":1},{"n":"temp","v":2}]"#, both) == ["d1|temp", "d1|temp"])
        // bn "d1/" alone names the device and an empty metric: the topic's metric applies.
        #expect(names(#"[{"bn":"d1/","v":1}]"#, both) == ["d1|temp"])
        expectRejected(#"[{"v":1},{"n":"hum","v":2}]"#, .senml, both, reason: .topicMismatch, index: 1)
    }

    @Test func unknownFieldsAreIgnoredButMustUnderstandFieldsAreNot() {
        #expect(names(#"[{"bn":"d/","n":"a","v":1,"x":{"y":[1,2]},"ut":5,"bs":1}]"#) == ["d|a"])
        expectRejected(#"[{"bn":"d/","n":"a","v":1},{"n":"a","v":1,"foo_":1}]"#, .senml, reason: .malformed, index: 1)
    }

    @Test func duplicateFieldIsMalformedWithIndex() {
        expectRejected(#"[{"bn":"d/","n":"a","v":1},{"n":"a","v":1,"v":2}]"#, .senml,
                       reason: .malformed, index: 1, messageContains: "duplicate")
    }

    @Test(arguments: [
        #"{"bn":"d/","n":"a","v":1}"#,
        #"[{"bn":"d/","n":"a","v":NaN}]"#,
        #"[{"bn":"d/","n":"a","v":1},]"#,
        #"[{"bn":"d/","n":"a","vs":"x"},{"#,
        #"[1]x"#,
        "",
    ])
    func unparseablePackHasNoIndex(payload: String) {
        expectRejected(payload, .senml, reason: .malformed, index: nil)
    }

    @Test func recordThatIsNotAnObjectIsMalformedWithIndex() {
        expectRejected(#"[{"bn":"d/","n":"a","v":1},[]]"#, .senml, reason: .malformed, index: 1)
    }
}
