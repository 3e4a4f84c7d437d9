import Foundation
import SensorCore
import Testing

@Suite struct ThreadNameTests {
    /// The name reaches the system: what `/proc` shows for the thread.
    @Test func aThreadShowsTheNameItGaveItself() async {
        let shown = await withCheckedContinuation { continuation in
            Thread {
                ThreadName.set("sensorhub-test")
                continuation.resume(returning: try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8))
            }.start()
        }
        #expect(shown == "sensorhub-test\n")
    }
}
