internal import SensorCore

/// The readings of a batch that go to one shard, in the order they came, with the number
/// of each one's series (``SeriesSlot/index``).
struct ShardPart: Sendable {
    var readings: [Reading] = []
    var series: [Int32] = []

    init() {}

    init(readings: [Reading], series: [Int32]) {
        precondition(readings.count == series.count, "one series number per reading")
        self.readings = readings
        self.series = series
    }

    var count: Int { readings.count }
    var isEmpty: Bool { readings.isEmpty }

    mutating func append(_ reading: Reading, series index: Int32) {
        readings.append(reading)
        series.append(index)
    }

    /// The first `count` readings.
    func prefix(_ count: Int) -> ShardPart {
        ShardPart(readings: Array(readings[..<count]), series: Array(series[..<count]))
    }

    /// The part without the readings `isLeftOut` says.
    func removingAll(where isLeftOut: (Reading) -> Bool) -> ShardPart {
        var kept = ShardPart()
        for index in readings.indices where !isLeftOut(readings[index]) {
            kept.append(readings[index], series: series[index])
        }
        return kept
    }
}
