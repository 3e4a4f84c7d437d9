import Foundation
import SensorCore
import SensorImport

/// What `FILE.sensorhub-import` keeps beside an input while its import is unfinished: the
/// batches' stream identity, how they were cut, and where the last acknowledged one ended
/// (CONTRACT §6). Written (atomically: a temporary file renamed over it) before the first
/// batch is sent and after each one acknowledged in order; marked complete when the file
/// is done, and removed once every file of the command is, so `--resume` of several files
/// skips those already complete.
struct ResumeState: Codable, Equatable {
    static let version = 1

    var version = Self.version
    /// Names every batch of this file's import (`SensorHub-Batch: <stream>/<ordinal>`,
    /// the ordinal `chunk · lanes + lane`).
    var stream: String
    var format: ImportFormat
    var batch: Int
    /// How many lanes each chunk was split over (`--in-flight`).
    var lanes: Int
    /// The next chunk's number (its batches' ordinals are `ordinal · lanes + lane`) and
    /// where it starts.
    var ordinal: UInt64
    var position: ImportPosition
    /// The file as it was when the import started, to notice another file in its place.
    var fileSize: Int64?
    var fileModified: Int64?
    /// Length of the rejects file after this file's last acknowledged batch.
    var rejectsBytes: Int64?
    var complete = false
    /// Counts so far, for the summary and exit status of a resumed import.
    var tally = ImportTally()

    static func path(of input: String) -> String { input + ".sensorhub-import" }

    /// A new stream name: random, so two imports of one file never share batches.
    static func newStream() -> String {
        "import-" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(24)
    }

    /// The state kept beside `input`, nil when there is none.
    /// - Throws: a reason when the file is there but unreadable.
    static func load(for input: String) throws -> ResumeState? {
        let path = path(of: input)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let state = try JSONDecoder().decode(ResumeState.self, from: data)
        guard state.version == Self.version else {
            throw ResumeStateError("\(path) was written by another version of sensorhub (\(state.version))")
        }
        guard BatchIdentity(stream: state.stream, ordinal: 0) != nil, state.batch > 0, state.lanes > 0 else {
            throw ResumeStateError("\(path) is damaged")
        }
        return state
    }

    func save(for input: String) throws {
        let path = Self.path(of: input)
        let temporary = path + ".tmp"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else {
            throw ResumeStateError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func remove(for input: String) {
        try? FileManager.default.removeItem(atPath: path(of: input))
    }
}

struct ResumeStateError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
