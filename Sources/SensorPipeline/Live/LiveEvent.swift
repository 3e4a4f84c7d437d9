public import SensorCore
public import SensorStore

/// What a live subscriber receives.
public enum LiveEvent: Sendable {
    /// A bucket as stored after a flush.
    case bucket(Bucket)
    /// A rule fired or resolved for a series.
    case alert(AlertRecord)
    /// The subscriber fell behind and this many older updates were dropped for it.
    case lagged(dropped: Int)
    /// Nothing new; sent when the consumer asked for one (``LiveSubscription/heartbeat()``).
    case heartbeat
}
