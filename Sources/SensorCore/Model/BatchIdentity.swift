/// The identity a client gives a batch so that sending it again never counts it twice,
/// whether or not its readings carry seq: a stream (one import of one file, say) and the
/// batch's ordinal in it. HTTP header `SensorHub-Batch: <stream>/<ordinal>`.
///
/// `sensorhub import` names every batch so: after a kill, `--resume` sends again the
/// batches whose acknowledgement it had not recorded, and the daemon answers those it
/// already took as duplicates (``BatchPart``).
public struct BatchIdentity: Hashable, Sendable, CustomStringConvertible {
    /// 1–64 characters of `[A-Za-z0-9._-]`.
    public let stream: String
    public let ordinal: UInt64

    public static let maxStreamLength = 64

    /// Nil when `stream` breaks the rules.
    public init?(stream: String, ordinal: UInt64) {
        guard (1...Self.maxStreamLength).contains(stream.utf8.count),
              stream.utf8.allSatisfy(NameKind.metric.allows)
        else { return nil }
        self.stream = stream
        self.ordinal = ordinal
    }

    /// Parses the header value `<stream>/<ordinal>`; nil when it is not one.
    public init?(header: String) {
        guard let slash = header.utf8.lastIndex(of: UInt8(ascii: "/")),
              let ordinal = UInt64(header[header.index(after: slash)...])
        else { return nil }
        self.init(stream: String(header[..<slash]), ordinal: ordinal)
    }

    public var description: String { "\(stream)/\(ordinal)" }
}

/// Which readings of an identified batch one journal record holds: the pipeline splits a
/// batch by series hash over its shards, and the part of shard `index` of `shards` is
/// every reading whose ``SeriesKey/stableHash`` modulo `shards` is `index`. Recorded with
/// the readings, so whatever crashes in between, a batch sent again has exactly the
/// readings of its parts not yet taken counted, even when the shard count changed.
public struct BatchPart: Hashable, Sendable {
    public var shards: UInt16
    public var index: UInt16

    public init(shards: UInt16, index: UInt16) {
        self.shards = shards
        self.index = index
    }

    /// Whether `series` belongs to this part.
    public func contains(_ series: SeriesKey) -> Bool {
        series.stableHash % UInt64(shards) == UInt64(index)
    }
}

extension Array where Element == BatchPart {
    /// Whether one of these parts holds `series` (its reading was taken with them).
    public func covers(_ series: SeriesKey) -> Bool {
        contains { $0.contains(series) }
    }
}

/// One journal record's claim: the part `part` of batch `identity` is taken.
public struct BatchMark: Hashable, Sendable {
    public var identity: BatchIdentity
    public var part: BatchPart

    public init(identity: BatchIdentity, part: BatchPart) {
        self.identity = identity
        self.part = part
    }
}
