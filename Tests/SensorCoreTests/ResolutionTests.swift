import Testing
@testable import SensorCore

@Suite struct ResolutionTests {
    @Test(arguments: [("10s", 10), ("1m", 60), ("1h", 3_600), ("1d", 86_400), ("5m", 300), ("90s", 90), ("7d", 604_800)])
    func parsesUnits(text: String, seconds: Int64) throws {
        #expect(try Resolution(parsing: text).seconds == seconds)
    }

    @Test(arguments: ["", "10", "s", "0s", "-1m", "1.5m", "1w", "10 s", "1M", "abc", "1h30m", "99999999999999999999s", "3651d"])
    func rejectsAnythingElse(text: String) {
        #expect(throws: ResolutionError.self) { try Resolution(parsing: text) }
    }

    @Test func errorNamesTheTextAndTheForm() {
        #expect(throws: ResolutionError(text: "1w")) { try Resolution(parsing: "1w") }
        #expect(ResolutionError(text: "1w").description.contains("\"1w\""))
    }

    @Test func describesInTheLargestWholeUnit() throws {
        #expect(try Resolution(parsing: "60s").description == "1m")
        #expect(try Resolution(parsing: "90s").description == "90s")
        #expect(try Resolution(parsing: "24h").description == "1d")
    }

    @Test func windowsAreEpochAlignedAndHalfOpen() throws {
        let minute = try Resolution(parsing: "1m")
        #expect(minute.windowStart(containing: 0) == 0)
        #expect(minute.windowStart(containing: 59_999_999) == 0)
        #expect(minute.windowStart(containing: 60_000_000) == 60_000_000)
        #expect(minute.windowStart(containing: 1_764_165_630_250_000) == 1_764_165_600_000_000)
        // Before the epoch windows still floor: [-60 s, 0).
        #expect(minute.windowStart(containing: -1) == -60_000_000)
    }

    @Test func divisibility() throws {
        #expect(try Resolution(parsing: "10s").divides(Resolution(parsing: "5m")))
        #expect(try !Resolution(parsing: "1m").divides(Resolution(parsing: "90s")))
    }
}
