internal import SensorCore
internal import Foundation

extension AggregateQuery {
    /// Builds a query from the texts a user typed (CLI options or HTTP query parameters),
    /// naming the offending argument when one does not parse.
    public init(
        device: String?, metric: String?, window: String?, step: String?, from: String?, to: String?
    ) throws(QueryArgumentError) {
        guard let window, !window.isEmpty else {
            throw QueryArgumentError(argument: "window", message: "a window is required (e.g. window=1m)")
        }
        let windowValue: Resolution
        do { windowValue = try Resolution(parsing: window) } catch {
            throw QueryArgumentError(argument: "window", message: error.description)
        }
        var stepValue: Resolution?
        if let step, !step.isEmpty {
            do { stepValue = try Resolution(parsing: step) } catch {
                throw QueryArgumentError(argument: "step", message: error.description.replacingOccurrences(of: "window", with: "step"))
            }
        }
        func time(_ text: String?, _ name: String) throws(QueryArgumentError) -> Int64? {
            guard let text, !text.isEmpty else { return nil }
            guard let micros = TimeText.parse(text) else {
                throw QueryArgumentError(
                    argument: name,
                    message: "invalid \(name) \"\(text)\": expected RFC 3339 (2025-11-26T14:00:00Z) or Unix seconds (1764165600)")
            }
            return micros
        }
        let fromValue = try time(from, "from")
        let toValue = try time(to, "to")
        if let fromValue, let toValue, fromValue >= toValue {
            throw QueryArgumentError(argument: "from", message: "from must be earlier than to")
        }
        self.init(
            deviceGlob: device.flatMap { $0.isEmpty ? nil : $0 } ?? "*",
            metricGlob: metric.flatMap { $0.isEmpty ? nil : $0 } ?? "*",
            window: windowValue, step: stepValue, from: fromValue, to: toValue)
    }
}

/// A query argument that does not parse; `message` says which and why.
public struct QueryArgumentError: Error, Sendable, CustomStringConvertible {
    public let argument: String
    public let message: String
    public var description: String { message }
}
