package import SensorCore

/// The `parts` column of `batch_ledger`: the parts of one identified batch taken so far,
/// as "shards:index" items joined by commas. Later flushes append to it.
package enum LedgerParts {
    package static func text(_ parts: some Sequence<BatchPart>) -> String {
        Set(parts).map { "\($0.shards):\($0.index)" }.joined(separator: ",")
    }

    /// The parts of a column value, nil when an item does not parse.
    package static func parse(_ text: String) -> Set<BatchPart>? {
        var parts: Set<BatchPart> = []
        for item in text.split(separator: ",") {
            let fields = item.split(separator: ":")
            guard fields.count == 2, let shards = UInt16(fields[0]), let index = UInt16(fields[1]), index < shards else { return nil }
            parts.insert(BatchPart(shards: shards, index: index))
        }
        return parts.isEmpty ? nil : parts
    }
}
