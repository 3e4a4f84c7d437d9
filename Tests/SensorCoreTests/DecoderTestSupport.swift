import SensorCore
import Testing

/// Shared fixtures of the decoder tests.
enum Fixture {
    /// Arrival time used by every test context: 2025-11-26T13:50:00Z.
    static let arrival: Int64 = 1_764_165_000_000_000
    /// 2025-11-26T14:00:00Z in µs, computed with `date -u -d @1764165600`.
    static let t0: Int64 = 1_764_165_600_000_000

    static let noTopic = DecodeContext(arrivalTime: arrival)

    static func topic(_ device: String, _ metric: String? = nil) -> DecodeContext {
        DecodeContext(device: device, metric: metric, arrivalTime: arrival)
    }
}

/// Decodes `text`, recording any error as a test issue.
func decoded(_ text: String, _ format: PayloadFormat, _ context: DecodeContext = Fixture.noTopic,
             sourceLocation: SourceLocation = #_sourceLocation) -> [Reading] {
    do {
        return try ReadingDecoder.decode(text, format: format, context: context)
    } catch {
        Issue.record("expected \(format) payload to decode, got \(error.reason.rawValue) at \(String(describing: error.index)): \(error.message)",
                     sourceLocation: sourceLocation)
        return []
    }
}

/// The error decoding `text` throws; records an issue when it decodes.
func rejection(_ text: String, _ format: PayloadFormat, _ context: DecodeContext = Fixture.noTopic,
               sourceLocation: SourceLocation = #_sourceLocation) -> DecodeError? {
    do {
        let readings = try ReadingDecoder.decode(text, format: format, context: context)
        Issue.record("expected \(format) payload to be rejected, got \(readings)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// Asserts `text` is rejected with exactly `reason` at `index`.
func expectRejected(_ text: String, _ format: PayloadFormat, _ context: DecodeContext = Fixture.noTopic,
                    reason: RejectReason, index: Int?, messageContains: String? = nil,
                    sourceLocation: SourceLocation = #_sourceLocation) {
    guard let error = rejection(text, format, context, sourceLocation: sourceLocation) else { return }
    #expect(error.reason == reason, "reason for \(text.prefix(80)): \(error.message)", sourceLocation: sourceLocation)
    #expect(error.index == index, "index for \(text.prefix(80)): \(error.message)", sourceLocation: sourceLocation)
    if let messageContains {
        #expect(error.message.contains(messageContains), "message \"\(error.message)\" lacks \"\(messageContains)\"",
                sourceLocation: sourceLocation)
    }
}

/// A JSON array of `count` native readings like the ones the daemon benchmarks use.
func nativeBatch(count: Int) -> String {
    "[" + (0..<count).map { i in
        #"{"device":"dev-0042","metric":"temp","value":21.375,"ts":1764165600.25,"seq":\#(i)}"#
    }.joined(separator: ",") + "]"
}
