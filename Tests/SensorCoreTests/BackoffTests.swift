import Testing
import SensorCore

@Suite struct BackoffTests {
    @Test func backoffDoublesUpToTheCapWithJitter() {
        let backoff = Backoff(minimum: .milliseconds(100), maximum: .seconds(2))
        for failures in 0..<30 {
            let step = min(Duration.milliseconds(100) * (1 << min(failures, 20)), .seconds(2))
            let delay = backoff.delay(afterFailures: failures)
            #expect(delay >= step * 0.5 && delay <= step, "failures \(failures): \(delay) not in [\(step * 0.5), \(step)]")
        }
    }
}
