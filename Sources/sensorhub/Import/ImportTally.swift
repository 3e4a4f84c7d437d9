import SensorCore

/// What an import counted: readings taken, duplicates, rejected records by reason.
struct ImportTally: Codable, Equatable {
    var readings = 0
    var duplicates = 0
    var rejectedByReason: [RejectReason: Int] = [:]

    var rejected: Int { rejectedByReason.values.reduce(0, +) }

    static func += (lhs: inout ImportTally, rhs: ImportTally) {
        lhs.readings += rhs.readings
        lhs.duplicates += rhs.duplicates
        lhs.rejectedByReason.merge(rhs.rejectedByReason, uniquingKeysWith: +)
    }

    /// `readings=N duplicates=D rejected=R`, and the reasons when any was rejected.
    var text: String {
        var text = "readings=\(readings) duplicates=\(duplicates) rejected=\(rejected)"
        if !rejectedByReason.isEmpty {
            text += " (" + rejectedByReason.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " ") + ")"
        }
        return text
    }
}
