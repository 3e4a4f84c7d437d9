/// The config file's `forward:` (CONTRACT §7): every closed bucket of `resolutions`
/// published once, as a contract row, with QoS 1 to `topic` (`{device}`, `{metric}`,
/// `{resolution}` expanded).
public struct ForwardRule: Sendable, Equatable {
    public var topic: TopicTemplate
    public var resolutions: [Resolution]

    public init(topic: TopicTemplate, resolutions: [Resolution]) {
        self.topic = topic
        self.resolutions = resolutions
    }
}
