import Testing
@testable import SensorConfig

@Suite struct ValueTextTests {
    @Test(arguments: [
        ("500ms", Duration.milliseconds(500)), ("10s", .seconds(10)), ("5m", .seconds(300)),
        ("2h", .seconds(7_200)), ("7d", .seconds(604_800)), ("0ms", .zero), ("1500ms", .milliseconds(1_500)),
    ])
    func durationsParse(text: String, expected: Duration) {
        #expect(DurationText.parse(text) == expected)
    }

    @Test(arguments: ["", "s", "10", "1.5s", "10 s", " 10s", "10s ", "1h30m", "10S", "10sec", "-1s", "+1s", "1w", "1y", "10us"])
    func malformedDurationsAreRejected(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test(arguments: [
        (Duration.milliseconds(250), "250ms"), (.seconds(1), "1s"), (.seconds(90), "90s"), (.seconds(300), "5m"),
        (.seconds(86_400), "1d"), (.zero, "0ms"),
    ])
    func durationsFormatShortest(duration: Duration, expected: String) {
        #expect(DurationText.format(duration) == expected)
    }

    @Test(arguments: [
        ("512", 512), ("0", 0), ("64KiB", 65_536), ("8MiB", 8_388_608), ("1GiB", 1_073_741_824),
        ("3kB", 3_000), ("10MB", 10_000_000), ("2GB", 2_000_000_000), ("5B", 5),
    ])
    func sizesParse(text: String, expected: Int) {
        #expect(ByteSize.parse(text) == expected)
    }

    @Test(arguments: ["", "KiB", "8KB", "8kib", "8 MiB", "1.5MiB", "-1", "8TiB", "99999999999999999999", "9999999999GiB"])
    func malformedSizesAreRejected(text: String) {
        #expect(ByteSize.parse(text) == nil)
    }

    @Test(arguments: [(8_388_608, "8MiB"), (65_536, "64KiB"), (10_000_000, "10MB"), (1_500, "1500"), (1_024_000, "1000KiB")])
    func sizesFormatShortest(bytes: Int, expected: String) {
        #expect(ByteSize.format(bytes) == expected)
    }

    /// The valid examples of MQTT 3.1.1 and 5, section 4.7.
    @Test(arguments: ["#", "+", "+/+", "/+", "/", "sport/#", "sport/tennis/#", "sport/+/player1", "+/tennis/#",
                      "a//b", "/finance", "$SYS/#", "$share/group/sensors/#", "capteurs/é/température"])
    func validTopicFiltersAreAccepted(filter: String) {
        #expect(TopicFilter.problem(in: filter) == nil)
    }

    @Test(arguments: ["sport/tennis#", "sport/tennis/#/ranking", "sport+", "sport/+tennis", "#/a", "a/##", "++"])
    func wildcardsOutsideTheirOwnLevelAreRejected(filter: String) {
        #expect(TopicFilter.problem(in: filter) != nil)
    }

    @Test func mqttURLWithoutPortUses1883() throws {
        let url = try MQTTURL.parse("mqtt://broker.local").get()
        #expect(url == MQTTURL(host: "broker.local", port: 1883))
    }

    @Test func mqttsURLMeansTLSOnPort8883() throws {
        let url = try MQTTURL.parse("mqtts://dev-1:pw@broker.example").get()
        #expect(url == MQTTURL(host: "broker.example", port: 8883, username: "dev-1", password: "pw", usesTLS: true))
        #expect(url.description == "mqtts://dev-1:***@broker.example:8883")
        #expect(try MQTTURL.parse("MQTTS://broker:9883").get().port == 9883)
        #expect(try MQTTURL.parse(url.urlString).get() == url)
        #expect(try MQTTURL.parse("mqtt://broker").get().usesTLS == false)
    }

    @Test func mqttURLWithIPv6Host() throws {
        let url = try MQTTURL.parse("mqtt://[::1]:1884").get()
        #expect(url.host == "::1")
        #expect(url.port == 1884)
        #expect(url.description == "mqtt://[::1]:1884")
    }

    @Test func mqttURLCredentialsArePercentDecoded() throws {
        let url = try MQTTURL.parse("mqtt://dev%40site:p%3Ass@broker:1883").get()
        #expect(url.username == "dev@site")
        #expect(url.password == "p:ss")
        #expect(url.description == "mqtt://dev%40site:***@broker:1883")
        #expect(try MQTTURL.parse(url.urlString).get() == url, "urlString round-trips: \(url.urlString)")
    }

    @Test func mqttURLUserWithoutPassword() throws {
        let url = try MQTTURL.parse("mqtt://alice@broker:1883").get()
        #expect(url.username == "alice")
        #expect(url.password == nil)
        #expect(url.description == "mqtt://alice@broker:1883")
    }

    @Test func maskingHidesOnlyThePassword() {
        #expect(MQTTURL.masked("mqtt://u:secret@h:1/x") == "mqtt://u:***@h:1/x")
        #expect(MQTTURL.masked("mqtt://u@h:1") == "mqtt://u@h:1")
        #expect(MQTTURL.masked("mqtt://h:1") == "mqtt://h:1")
    }
}
