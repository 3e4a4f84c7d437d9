import SensorCore
import Testing

@Suite struct BareNumberDecoderTests {
    private let topic = Fixture.topic("d1", "temp")

    @Test(arguments: [("21.5", 21.5), (" 21.5\n", 21.5), ("-0.125", -0.125), ("1e3", 1000), ("0", 0), ("\t-7E-1 ", -0.7)])
    func numberWithTopicGivesOneReadingAtArrival(payload: String, value: Double) {
        #expect(decoded(payload, .bareNumber, topic)
            == [Reading(device: "d1", metric: "temp", value: value, timestamp: Fixture.arrival)])
    }

    @Test func needsATopicNamingDeviceAndMetric() {
        expectRejected("21.5", .bareNumber, reason: .malformed, index: nil, messageContains: "topic naming device and metric")
        expectRejected("21.5", .bareNumber, Fixture.topic("d1"), reason: .malformed, index: nil)
        #expect(!Fixture.topic("d1").allowsBareNumber && topic.allowsBareNumber)
    }

    @Test(arguments: ["NaN", "nan", "Infinity", "-Infinity", "abc", "21.5x", "21.5 22", "\"21.5\"", "01", "+1", ".5", "1.", "0x10", "", "  ", "[21.5]", "21,5"])
    func garbageIsMalformedWithoutIndex(payload: String) {
        expectRejected(payload, .bareNumber, topic, reason: .malformed, index: nil)
    }

    @Test func nonFiniteIsInvalidValue() {
        expectRejected("1e999", .bareNumber, topic, reason: .invalidValue, index: nil)
        expectRejected("-1e400", .bareNumber, topic, reason: .invalidValue, index: nil)
    }
}
