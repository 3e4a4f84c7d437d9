import SensorCore
import Testing

/// Random mutations of valid payloads must never crash a decoder; they either decode into
/// readings that obey the contract's rules or throw a DecodeError.
@Suite struct DecoderFuzzTests {
    private static let seeds: [(PayloadFormat, String)] = [
        (.json, #"[{"device":"d1","metric":"temp","value":21.5,"ts":1764165600.25,"seq":7},{"device":"d2","metric":"hum","value":-1e-3,"ts":"2025-11-26T14:00:00.5+01:00","x":{"a":[1,"\u00e9\ud83d\ude00",null,true]}}]"#),
        (.json, #"{"device":"dev\u002d1","metric":"m","value":123456789012345678901234567890e-10,"seq":18446744073709551615}"#),
        (.ndjson, "{\"device\":\"d1\",\"metric\":\"temp\",\"value\":1}\r\n\n{\"device\":\"d1\",\"metric\":\"temp\",\"value\":2,\"ts\":0}\n"),
        (.senml, #"[{"bn":"urn:dev:ow:X:","bt":1764165600,"bv":1,"n":"temp","u":"Cel","v":21.5},{"n":"hum","v":40,"t":-5},{"bn":"d2/m","v":1}]"#),
        (.lineProtocol, "# c\nenv,device=d1,seq=3 value=1,hum=40i,ok=t,s=\"a \\\" b\",u=7u 1764165600250000000\r\nt,device=d\\ x value=2\n"),
        (.bareNumber, " -21.5e-1\n"),
    ]

    private static let interesting: [UInt8] = Array("{}[],:\"\\ \n\r\t0123456789-+.eEtfnu#=/ix".utf8) + [0, 0x80, 0xC3, 0xED, 0xFF]

    private static func valid(_ name: String, colon: Bool) -> Bool {
        (1...128).contains(name.utf8.count) && name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || b == 0x2E || b == 0x5F || b == 0x2D || (colon && b == 0x3A)
        }
    }

    @Test func mutatedPayloadsDecodeOrThrow() {
        var generator = SeededGenerator(seed: 0xF022)
        let context = Fixture.topic("d1", "temp")
        var decodedCount = 0
        var rejectedCount = 0
        for iteration in 0..<6_000 {
            let (format, seed) = Self.seeds[iteration % Self.seeds.count]
            var bytes = Array(seed.utf8)
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let position = Int.random(in: 0...bytes.count, using: &generator)
                switch Int.random(in: 0..<6, using: &generator) {
                case 0 where position < bytes.count:
                    bytes[position] = Self.interesting.randomElement(using: &generator)!
                case 1:
                    bytes.insert(Self.interesting.randomElement(using: &generator)!, at: position)
                case 2 where position < bytes.count:
                    bytes.remove(at: position)
                case 3:
                    bytes.removeLast(Int.random(in: 0...min(8, bytes.count), using: &generator))
                case 4 where position < bytes.count:
                    let end = min(bytes.count, position + Int.random(in: 1...16, using: &generator))
                    bytes.insert(contentsOf: bytes[position..<end], at: position)
                default:
                    if let index = bytes.indices.randomElement(using: &generator) {
                        bytes[index] = UInt8.random(in: 0...255, using: &generator)
                    }
                }
            }
            for context in [Fixture.noTopic, context] {
                do {
                    let readings = try ReadingDecoder.decode(bytes, format: format, context: context)
                    decodedCount += 1
                    for reading in readings {
                        #expect(Self.valid(reading.device, colon: true), "device \(reading.device)")
                        #expect(Self.valid(reading.metric, colon: false), "metric \(reading.metric)")
                        #expect(reading.value.isFinite)
                        #expect((0...RFC3339.maxAcceptedMicros).contains(reading.timestamp))
                        if let device = context.device { #expect(reading.device == device) }
                        if let metric = context.metric { #expect(reading.metric == metric) }
                    }
                } catch {
                    rejectedCount += 1
                    #expect(!error.message.isEmpty)
                    if let index = error.index { #expect(index >= 0) }
                }
            }
        }
        // Both outcomes happen, or the mutations are not exercising anything.
        #expect(decodedCount > 100 && rejectedCount > 100, "decoded \(decodedCount), rejected \(rejectedCount)")
    }

    @Test func randomBytesNeverCrash() {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<2_000 {
            let bytes = (0..<Int.random(in: 0...64, using: &generator)).map { _ in Self.interesting.randomElement(using: &generator)! }
            for format in PayloadFormat.allCases {
                _ = try? ReadingDecoder.decode(bytes, format: format, context: Fixture.topic("d", "m"))
            }
        }
    }
}
