import Foundation
import SensorCore

/// How simulated values move over time, reproducibly from a seed.
enum ValueShape: String, CaseIterable {
    /// A random walk around the series' base value.
    case walk
    /// A daily sine (peak at 14:00 UTC) with a little noise.
    case sine
    /// Mostly flat noise with an occasional spike (about 1 reading in 500).
    case spikes
    /// Each series gets one of the shapes above.
    case mixed
}

/// One simulated series: its shape and where its random walk stands.
struct SimulatedSeries {
    let device: String
    let metric: String
    let shape: ValueShape
    let base: Double
    let amplitude: Double
    var current: Double
    var seq: UInt64 = 0

    mutating func next(at microseconds: Int64, using random: inout SeededGenerator) -> Double {
        let noise = (Double(random.next() % 10_000) / 10_000 - 0.5) * amplitude * 0.05
        let value: Double
        switch shape {
        case .walk, .mixed:
            current += noise
            value = current
        case .sine:
            let dayFraction = Double(microseconds % 86_400_000_000) / 86_400_000_000
            value = base + amplitude * sin(2 * .pi * (dayFraction - 14.0 / 24.0 + 0.25)) + noise
        case .spikes:
            value = base + noise + (random.next() % 500 == 0 ? amplitude * 5 : 0)
        }
        // Three decimals, as a sensor would report.
        return (value * 1_000).rounded() / 1_000
    }
}
