import Testing
@testable import SensorPipeline

extension IngestQueue {
    /// Waits (a minute at most) until `count` producers stand in the queue's line.
    func waitUntilWaiting(_ count: Int) async {
        let deadline = ContinuousClock.now + .seconds(60)
        while waitingProducers < count, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(2))
        }
        #expect(waitingProducers == count)
    }
}
