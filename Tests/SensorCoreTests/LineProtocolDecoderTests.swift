import SensorCore
import Testing

@Suite struct LineProtocolDecoderTests {
    typealias R = Reading

    @Test func contractExample() {
        #expect(decoded("temp,device=d1 value=21.5 1764165600250000000", .lineProtocol)
            == [R(device: "d1", metric: "temp", value: 21.5, timestamp: 1_764_165_600_250_000)])
    }

    @Test func everyNumericFieldIsAReadingAndOthersAreIgnored() {
        let readings = decoded(#"env,room=kitchen,device=d1 value=1,hum=40i,ok=true,note="a b,c=\"d\"",count=7u,p=-1.5e3,q=+.5 1764165600000000000"#,
                               .lineProtocol)
        #expect(readings == [
            R(device: "d1", metric: "env", value: 1, timestamp: Fixture.t0),
            R(device: "d1", metric: "env.hum", value: 40, timestamp: Fixture.t0),
            R(device: "d1", metric: "env.count", value: 7, timestamp: Fixture.t0),
            R(device: "d1", metric: "env.p", value: -1500, timestamp: Fixture.t0),
            R(device: "d1", metric: "env.q", value: 0.5, timestamp: Fixture.t0),
        ])
    }

    @Test func seqTagAppliesToEveryReadingOfTheLine() {
        let readings = decoded("env,device=d1,seq=42 a=1,b=2", .lineProtocol)
        #expect(readings == [
            R(device: "d1", metric: "env.a", value: 1, timestamp: Fixture.arrival, seq: 42),
            R(device: "d1", metric: "env.b", value: 2, timestamp: Fixture.arrival, seq: 42),
        ])
    }

    @Test func timestampIsFlooredToMicroseconds() {
        #expect(decoded("t,device=d value=1 1764165600000000999", .lineProtocol).map(\.timestamp) == [Fixture.t0])
        #expect(decoded("t,device=d value=1 0", .lineProtocol).map(\.timestamp) == [0])
        #expect(decoded("t,device=d value=1", .lineProtocol).map(\.timestamp) == [Fixture.arrival])
        #expect(decoded("t,device=d value=1 9223372036854775807", .lineProtocol).map(\.timestamp) == [9_223_372_036_854_775])
    }

    @Test func linesCommentsAndBlankLines() {
        let payload = "# header\r\n\r\ntemp,device=d1 value=1 1764165600000000000\r\n   \n\ttemp,device=d2 value=2 \n"
        let readings = decoded(payload, .lineProtocol)
        #expect(readings.map(\.device) == ["d1", "d2"])
        #expect(readings.map(\.timestamp) == [Fixture.t0, Fixture.arrival])
        #expect(decoded("# only a comment\n", .lineProtocol).isEmpty)
    }

    @Test func indexCountsNonEmptyLinesIncludingComments() {
        let payload = "# c\n\ntemp,device=d1 value=1\n\n  \ntemp,device=d1 value=x\n"
        expectRejected(payload, .lineProtocol, reason: .invalidValue, index: 2, messageContains: "item 2")
    }

    @Test func badThirdLine() {
        let payload = "t,device=d value=1\nt,device=d value=2\nt,device=bad\\ dev value=3\nt,device=d value=4"
        expectRejected(payload, .lineProtocol, reason: .invalidDevice, index: 2)
    }

    @Test(arguments: [
        ("t,device=d value=\"21.5\"", RejectReason.invalidValue),
        ("t,device=d value=true", .invalidValue),
        ("t,device=d value=abc", .invalidValue),
        ("t,device=d value=1e999", .invalidValue),
        ("t,device=d value=NaN", .invalidValue),
        ("t,device=d note=\"x\",ok=F", .invalidValue),
        ("t,device=d value=99999999999999999999i", .invalidValue),
        ("t,room=k value=1", .invalidDevice),
        ("t,device=a\\ b value=1", .invalidDevice),
        ("t,device=a/b value=1", .invalidDevice),
        ("t\\,x,device=d value=1", .invalidMetric),
        ("t:x,device=d value=1", .invalidMetric),
        ("t,device=d a:b=1", .invalidMetric),
        ("t,device=d \(String(repeating: "f", count: 127))=1", .invalidMetric),
        ("t,device=d value=1 -1000", .invalidTimestamp),
        ("t,device=d value=1 1764165600.5", .invalidTimestamp),
        ("t,device=d value=1 9223372036854775808", .invalidTimestamp),
        ("t,device=d,seq=-1 value=1", .invalidSeq),
        ("t,device=d,seq=1.5 value=1", .invalidSeq),
        ("t,device=d x=abc", .malformed),
        ("t,device=d", .malformed),
        ("t,device=d ", .malformed),
        ("t,device=d value", .malformed),
        ("t,device value=1", .malformed),
        ("t,device=d,device=e value=1", .malformed),
        ("t,device=d value=1 1764165600000000000 extra", .malformed),
        ("t,device=d s=\"unterminated", .malformed),
        (",device=d value=1", .malformed),
    ])
    func badLineIsRejectedWithItsReason(line: String, reason: RejectReason) {
        expectRejected("t,device=d value=0\n" + line, .lineProtocol, reason: reason, index: 1)
    }

    @Test func emptyPayloadIsMalformedWithoutIndex() {
        expectRejected("", .lineProtocol, reason: .malformed, index: nil, messageContains: "empty payload")
        expectRejected(" \n\r\n", .lineProtocol, reason: .malformed, index: nil)
    }

    @Test func topicDeviceAndMetric() {
        #expect(decoded("t value=1", .lineProtocol, Fixture.topic("d1")).map(\.device) == ["d1"])
        expectRejected("t,device=d2 value=1", .lineProtocol, Fixture.topic("d1"), reason: .topicMismatch, index: 0)
        expectRejected("t,device=d1 value=1,hum=2", .lineProtocol, Fixture.topic("d1", "t"), reason: .topicMismatch, index: 0)
    }

    @Test func manyLinesShareNames() {
        let payload = (0..<100).map { "temp,device=dev-0042 value=21.375,hum=\($0)i 17641656002500\(String(format2: $0))000" }
            .joined(separator: "\n")
        let readings = decoded(payload, .lineProtocol)
        #expect(readings.count == 200)
        #expect(readings[199] == R(device: "dev-0042", metric: "temp.hum", value: 99, timestamp: 1_764_165_600_250_099))
    }
}

private extension String {
    init(format2 value: Int) { self = value < 10 ? "0\(value)" : "\(value)" }
}
