import Testing
import SensorCore
@testable import MQTTIngest

private func format(_ payload: String, on topic: String) throws -> PayloadFormat {
    let bytes = Array(payload.utf8)
    let result = bytes.withUnsafeBytes { buffer in
        Result { () throws(DecodeError) in try TopicRoute(topic: topic).format(of: buffer) }
    }
    return try result.get()
}

@Suite struct TopicRouteTests {
    @Test func topicFormsNameWhatTheyShould() {
        #expect(TopicRoute(topic: "sensors/d1/temp") == TopicRoute(topic: "sensors/d1/temp"))
        let both = TopicRoute(topic: "sensors/d1/temp")
        #expect(both.form == .deviceAndMetric && both.device == "d1" && both.metric == "temp")
        let device = TopicRoute(topic: "sensors/d1")
        #expect(device.form == .deviceOnly && device.device == "d1" && device.metric == nil)
        for topic in ["sensors/gw/7/batch", "sensors/a/b/c/d", "sensors"] {
            let route = TopicRoute(topic: topic)
            #expect(route.form == .selfDescribing && route.device == nil && route.metric == nil, "\(topic)")
        }
    }

    /// The route read from the topic's bytes (libmosquitto's C string) cuts the same names
    /// as splitting the topic at its slashes, long and multi-byte names included.
    @Test func theBytesOfATopicNameWhatSplittingItDoes() {
        let topics = ["sensors/d1/temp", "sensors/d1", "sensors//m", "sensors/d/", "sensors/", "/", "//", "",
                      "sensors/a-device-with-a-long-name/a-metric-with-a-long-name", "sensors/caf\u{E9}/\u{1F321}",
                      "sensors/gw/7/batch", "a/b/c/d/e"]
        for topic in topics {
            let parts = topic.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            let route = Array(topic.utf8).withUnsafeBytes { TopicRoute(topic: $0) }
            switch parts.count {
            case 3: #expect(route.form == .deviceAndMetric && route.device == parts[1] && route.metric == parts[2], "\(topic)")
            case 2: #expect(route.form == .deviceOnly && route.device == parts[1] && route.metric == nil, "\(topic)")
            default: #expect(route.form == .selfDescribing && route.device == nil && route.metric == nil, "\(topic)")
            }
            #expect(route == TopicRoute(topic: topic), "\(topic)")
        }
    }

    @Test func payloadFormatsAreRecognised() throws {
        #expect(try format(#"{"value":1}"#, on: "sensors/d/m") == .json)
        #expect(try format(#"  [{"device":"d","metric":"m","value":1}]"#, on: "sensors/gw/1/batch") == .json)
        #expect(try format(#"[{"bn":"d/","n":"m","v":1}]"#, on: "sensors/d") == .senml)
        #expect(try format(#"[ { "n":"m","v":1}]"#, on: "sensors/d") == .senml)
        #expect(try format("21.5", on: "sensors/d/m") == .bareNumber)
        #expect(try format("-3", on: "sensors/d/m") == .bareNumber)
        #expect(try format("NaN", on: "sensors/d/m") == .bareNumber)
        #expect(try format("temp,device=d value=1", on: "sensors/gw/1/lp") == .lineProtocol)
    }

    @Test func bareNumbersOnlyWhereTheTopicNamesDeviceAndMetric() {
        for topic in ["sensors/d", "sensors/gw/1/batch"] {
            #expect(throws: DecodeError.self, "\(topic)") { try format("21.5", on: topic) }
        }
    }

    @Test func lineProtocolOnlyOnSelfDescribingTopics() {
        for topic in ["sensors/d", "sensors/d/m"] {
            #expect(throws: DecodeError.self, "\(topic)") { try format("temp,device=d value=1", on: topic) }
        }
    }
}
