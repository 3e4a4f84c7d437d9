/// The value of a Prometheus sample in `/metrics` text (`name` or `name{labels}` exactly
/// as printed), or nil when the sample is absent.
func metricValue(_ text: String, _ sample: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(sample + " ") {
        return Double(line.dropFirst(sample.count + 1))
    }
    return nil
}
