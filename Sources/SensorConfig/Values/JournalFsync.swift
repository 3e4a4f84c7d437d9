/// `journal.fsync`: when journal appends are forced to disk (see README, "Durability").
public enum JournalFsync: String, CaseIterable, Sendable {
    case never, interval, always
}
