import SensorCore
@testable import SensorStore
import Testing

@Suite struct WindowPlanTests {
    @Test func picksCoarsestResolutionDividingWindowAndStep() throws {
        let cases: [(window: String, step: String?, expected: String)] = [
            ("10s", nil, "10s"), ("1m", nil, "1m"), ("5m", nil, "1m"), ("2h", nil, "1h"),
            ("5m", "10s", "10s"), ("1h", "1m", "1m"), ("90s", nil, "10s"), ("1d", "1h", "1h"),
        ]
        for c in cases {
            let plan = try WindowPlan(query: AggregateQuery(window: res(c.window), step: c.step.map(res)), stored: defaultResolutions)
            #expect(plan.resolution == res(c.expected), "window \(c.window) step \(c.step ?? "-")")
        }
    }

    @Test func boundsSelectWhollyInsideWindows() throws {
        // from 12s, to 10m05s, window 1m step 30s: first window starts at 30s, last ends at 10m.
        let plan = try WindowPlan(
            query: AggregateQuery(window: res("1m"), step: res("30s"), from: 12 * second, to: 10 * minute + 5 * second),
            stored: defaultResolutions)
        #expect(plan.firstWindow == 1 && plan.lastWindow == 18)
        #expect(plan.bucketLow == 30 * second && plan.bucketHigh == 10 * minute)
        #expect(plan.chunk == 30 * second)
    }

    @Test func negativeBoundsFloorAndCeil() throws {
        let plan = try WindowPlan(
            query: AggregateQuery(window: res("1m"), from: -90 * second, to: -1), stored: defaultResolutions)
        #expect(plan.firstWindow == -1 && plan.lastWindow == -2 && plan.isEmpty)
        let wider = try WindowPlan(
            query: AggregateQuery(window: res("1m"), from: -121 * second, to: 1), stored: defaultResolutions)
        #expect(wider.firstWindow == -2 && wider.lastWindow == -1)
    }

    @Test func unboundedRangeDoesNotOverflow() throws {
        let plan = try WindowPlan(query: AggregateQuery(window: res("3650d"), step: res("10s")), stored: defaultResolutions)
        #expect(plan.bucketLow < -WindowPlan.timeBound / 2 && plan.bucketHigh > WindowPlan.timeBound / 2)
        let extreme = try WindowPlan(
            query: AggregateQuery(window: res("1m"), from: .min, to: .max), stored: defaultResolutions)
        #expect(!extreme.isEmpty)
    }
}
