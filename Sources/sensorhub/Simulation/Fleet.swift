import Foundation
import SensorCore

/// The simulated fleet: devices × metrics series, visited round robin, rendered as the
/// contract's payloads.
struct Fleet {
    private(set) var series: [SimulatedSeries]
    private var random: SeededGenerator
    private var cursor = 0
    let withSeq: Bool

    init(devices: Int, metrics: Int, prefix: String = "sim-", shape: ValueShape, seed: UInt64, withSeq: Bool) {
        var random = SeededGenerator(seed: seed)
        let names = ["temp", "humidity", "pressure", "co2", "voltage", "current", "power", "lux", "noise", "pm25"]
        var series: [SimulatedSeries] = []
        for device in 0..<devices {
            for metric in 0..<metrics {
                let chosen: ValueShape = shape == .mixed ? [.walk, .sine, .spikes][Int(random.next() % 3)] : shape
                let base = Double(random.next() % 100)
                let metricName = metric < names.count ? names[metric] : "metric\(metric)"
                series.append(SimulatedSeries(
                    device: prefix + String(format: "%05d", device), metric: metricName, shape: chosen,
                    base: base, amplitude: 5 + Double(random.next() % 20), current: base))
            }
        }
        self.series = series
        self.random = random
        self.withSeq = withSeq
    }

    /// The next reading, stamped `now` (µs).
    mutating func next(now: Int64) -> (series: Int, value: Double, seq: UInt64) {
        let index = cursor
        cursor = (cursor + 1) % series.count
        let value = series[index].next(at: now, using: &random)
        series[index].seq += 1
        return (index, value, series[index].seq)
    }

    /// A native JSON object for one reading; device and metric left out when the topic names them.
    func object(series index: Int, value: Double, seq: UInt64, now: Int64, names: Bool) -> String {
        let entry = series[index]
        var text = "{"
        if names { text += "\"device\":\"\(entry.device)\",\"metric\":\"\(entry.metric)\"," }
        text += "\"value\":\(value),\"ts\":\(Double(now) / 1_000_000)"
        if withSeq { text += ",\"seq\":\(seq)" }
        return text + "}"
    }

    func topic(series index: Int, prefix: String) -> String {
        "\(prefix)/\(series[index].device)/\(series[index].metric)"
    }
}
