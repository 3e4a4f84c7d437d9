import SensorCore

/// The readings of the shared bench harness (`../shared/bench/loadgen.c`, default flags),
/// reproduced bit for bit so these benchmarks measure the same stream the harness sends.
///
/// Reading `i` of `count`: series `s = i % (devices·metrics)`, device `dev-%05u` = s / metrics,
/// metric `m%u` = s % metrics, `seq = i / (devices·metrics)`, event time
/// `start + floor(i·span_ms / count)` ms, value `splitmix64(seed·0x100000001B3 ^ i) % 200001 − 50000`
/// milli-units (so [-50.000, 150.000] with 3 decimals). Defaults: 1000 devices × 4 metrics,
/// 400,000 readings round-robin over the 4000 series, 600 s starting at 1764165600 (a minute
/// boundary, and an hour boundary too), seed 1.
struct HarnessReadings: Sendable {
    let devices: Int
    let metrics: Int
    let count: Int
    let startSeconds: Int64
    let spanMilliseconds: Int64
    let seed: UInt64

    init(devices: Int = 1_000, metrics: Int = 4, count: Int = 400_000,
         startSeconds: Int64 = 1_764_165_600, spanMilliseconds: Int64 = 600_000, seed: UInt64 = 1) {
        self.devices = devices
        self.metrics = metrics
        self.count = count
        self.startSeconds = startSeconds
        self.spanMilliseconds = spanMilliseconds
        self.seed = seed
    }

    var seriesCount: Int { devices * metrics }

    /// Device, metric, value in milli-units, event time in ms and seq of reading `i`.
    struct Item {
        var device: Int
        var metric: Int
        var milli: Int64
        var milliseconds: Int64
        var seq: UInt64
    }

    func item(_ i: Int) -> Item {
        let series = i % seriesCount
        // floor(i · span_ms / count) without overflow, as loadgen's 128-bit product.
        let offset = Int64(UInt64(count).dividingFullWidth(
            UInt64(i).multipliedFullWidth(by: UInt64(spanMilliseconds))).quotient)
        let milli = Int64(Self.splitmix64((seed &* 0x1_0000_0001_B3) ^ UInt64(i)) % 200_001) - 50_000
        return Item(device: series / metrics, metric: series % metrics, milli: milli,
                    milliseconds: startSeconds * 1_000 + offset, seq: UInt64(i / seriesCount))
    }

    static func splitmix64(_ seed: UInt64) -> UInt64 {
        var x = seed &+ 0x9E37_79B9_7F4A_7C15
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 31)
    }

    // MARK: - As values

    static func deviceName(_ device: Int) -> String {
        let digits = String(device)
        return "dev-" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    static func metricName(_ metric: Int) -> String { "m\(metric)" }

    /// Reading `i` as the decoders return it (value and µs exactly as parsed from the text).
    func reading(_ i: Int) -> Reading {
        let item = item(i)
        return Reading(device: Self.deviceName(item.device), metric: Self.metricName(item.metric),
                       value: Double(item.milli) / 1_000, timestamp: item.milliseconds * 1_000, seq: item.seq)
    }

    // MARK: - As payloads

    /// `-12.345`, `7.000`: integer milli-units printed with exactly 3 decimals.
    static func decimal3(_ milli: Int64) -> String {
        let magnitude = milli.magnitude
        let fraction = String(magnitude % 1_000)
        return (milli < 0 ? "-" : "") + String(magnitude / 1_000) + "."
            + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// One native JSON object, byte for byte what loadgen sends.
    func jsonObject(_ i: Int) -> String {
        let item = item(i)
        return "{\"device\":\"\(Self.deviceName(item.device))\",\"metric\":\"\(Self.metricName(item.metric))\","
            + "\"value\":\(Self.decimal3(item.milli)),\"ts\":\(Self.decimal3(item.milliseconds)),\"seq\":\(item.seq)}"
    }

    /// Readings `range` as one native JSON array (an HTTP / MQTT batch body).
    func jsonArray(_ range: Range<Int>) -> [UInt8] {
        Array(("[" + range.map(jsonObject).joined(separator: ",") + "]").utf8)
    }

    /// One line of InfluxDB line protocol carrying reading `i`:
    /// `m0,device=dev-00000,seq=0 value=-12.345 1764165600000000000`.
    func lineProtocolLine(_ i: Int) -> String {
        let item = item(i)
        return "\(Self.metricName(item.metric)),device=\(Self.deviceName(item.device)),seq=\(item.seq) "
            + "value=\(Self.decimal3(item.milli)) \(item.milliseconds * 1_000_000)"
    }

    /// Readings `range` as one line-protocol body (lines joined by `\n`).
    func lineProtocol(_ range: Range<Int>) -> [UInt8] {
        Array(range.map(lineProtocolLine).joined(separator: "\n").utf8)
    }

    /// The whole stream as bodies of `batch` readings in stream order (the harness's W2/W3).
    func jsonBodies(batch: Int = 100) -> [[UInt8]] {
        stride(from: 0, to: count, by: batch).map { jsonArray($0..<min($0 + batch, count)) }
    }
}
