internal import Hummingbird
internal import SensorCore
internal import SensorPipeline
internal import SensorStore

/// The query of `/v1/stream` and `/v1/ws`: `device` and `metric` globs (default `*`) and
/// `resolution`, one or a comma list of the configured resolutions (default all).
enum LiveQuery {
    static let maxGlobBytes = 256
    static let maxGlobStars = 8

    static func filter(_ parameters: Parameters, configured: [Resolution]) throws(APIError) -> LiveFilter {
        let device = parameters["device"].map(String.init) ?? "*"
        let metric = parameters["metric"].map(String.init) ?? "*"
        guard !device.isEmpty, !metric.isEmpty else {
            throw APIError(.badRequest, "device and metric must not be empty (use * for all)")
        }
        // Globs are matched once per series and subscriber on the flusher's path: keep
        // them short enough that no pattern can make that expensive.
        for (name, glob) in [("device", device), ("metric", metric)] {
            guard glob.utf8.count <= maxGlobBytes, glob.filter({ $0 == "*" }).count <= maxGlobStars else {
                throw APIError(.badRequest, "\(name) glob too long: at most \(maxGlobBytes) bytes and \(maxGlobStars) '*'")
            }
        }
        guard let list = parameters["resolution"], !list.isEmpty else {
            return LiveFilter(deviceGlob: device, metricGlob: metric)
        }
        var resolutions = Set<Resolution>()
        for text in list.split(separator: ",", omittingEmptySubsequences: false) {
            guard let resolution = try? Resolution(parsing: String(text)), configured.contains(resolution) else {
                let names = configured.map(\.description).joined(separator: ",")
                throw APIError(.badRequest, "resolution \"\(text)\" is not a stored resolution; stored: \(names)")
            }
            resolutions.insert(resolution)
        }
        return LiveFilter(deviceGlob: device, metricGlob: metric, resolutions: resolutions)
    }

    /// One bucket as a contract row (JSON object, one line).
    static func rowJSON(_ bucket: Bucket) -> String {
        var text = ""
        AggregateRecord(series: bucket.series, windowStart: bucket.windowStart, windowEnd: bucket.windowEnd, stats: bucket.stats)
            .appendJSON(to: &text)
        return text
    }
}
