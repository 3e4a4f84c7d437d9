/// What a rule does on each transition (fired, resolved) of a series.
public enum AlertAction: Sendable, Equatable {
    /// POST the alert's JSON object to this http(s) URL, retried until a 2xx.
    case webhook(String)
    /// Publish the alert's JSON object with QoS 1 to this topic (`{rule}`, `{device}`,
    /// `{metric}` expanded).
    case mqtt(TopicTemplate)
}
