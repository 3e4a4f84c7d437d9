import Foundation
import SensorCore
import SensorImport
import Synchronization

/// Imports one input: reads chunks, sends up to ``inFlight`` batches at once, and, in
/// batch order, counts each acknowledged one, writes its rejects and records the position
/// after it (``ResumeState``). A batch the target refuses for one reading (time rules,
/// series limits) is sent again without it; that reading is a reject.
struct FileImporter {
    let path: String
    let reader: ImportReader
    let target: any ImportTarget
    let batchSize: Int
    let inFlight: Int
    let rejects: RejectsFile?
    /// The state to keep beside the file; nil for stdin (nothing to resume).
    var state: ResumeState?
    let interrupt: ImportInterrupt

    /// A sent batch, back from the target.
    private struct Done: Sendable {
        let ordinal: UInt64
        let chunk: ImportChunk
        let accepted: Int
        let duplicates: Int
    }

    /// Runs to the end of the input, or until interrupted (false).
    /// - Throws: ``ImportTargetFailure``, ``ImportInputError`` or a resume state write error.
    mutating func run(progress: inout ImportProgress, tally: inout ImportTally, started: ContinuousClock.Instant) async throws -> Bool {
        var nextOrdinal = state?.ordinal ?? 0
        var nextToCommit = nextOrdinal
        var finished: [UInt64: Done] = [:]
        let stream = state?.stream ?? ResumeState.newStream()
        var readerDone = false
        let target = target
        return try await withThrowingTaskGroup(of: Done.self) { group in
            var running = 0
            while true {
                while running < inFlight, !readerDone, !interrupt.requested {
                    guard let chunk = try reader.nextChunk(maxReadings: batchSize, arrivalTime: WallClock.microseconds()) else {
                        readerDone = true
                        break
                    }
                    let ordinal = nextOrdinal
                    nextOrdinal += 1
                    let identity = BatchIdentity(stream: stream, ordinal: ordinal)!
                    group.addTask { try await Self.send(chunk, ordinal: ordinal, identity: identity, to: target) }
                    running += 1
                }
                guard running > 0, let done = try await group.next() else { break }
                running -= 1
                finished[done.ordinal] = done
                while let next = finished.removeValue(forKey: nextToCommit) {
                    try commit(next, tally: &tally)
                    nextToCommit += 1
                }
                progress.update(file: path, done: reader.fileBytesRead, total: reader.fileSize, readings: tally.readings, since: started)
            }
            return readerDone
        }
    }

    /// Sends a chunk, leaving out readings the target refuses one by one.
    private static func send(_ chunk: ImportChunk, ordinal: UInt64, identity: BatchIdentity, to target: any ImportTarget) async throws -> Done {
        var chunk = chunk
        while !chunk.readings.isEmpty {
            switch try await target.send(chunk.readings, identity: identity) {
            case .taken(let accepted, let duplicates):
                return Done(ordinal: ordinal, chunk: chunk, accepted: accepted, duplicates: duplicates)
            case .refused(let index, let reason, let message):
                chunk.reject(at: index, reason: reason, message: ImportReader.itemless(message.replacingOccurrences(of: "item \(index): ", with: "")))
            }
        }
        return Done(ordinal: ordinal, chunk: chunk, accepted: 0, duplicates: 0)
    }

    /// Counts an acknowledged batch (in order), writes its rejects, then the position.
    private mutating func commit(_ done: Done, tally: inout ImportTally) throws {
        tally.readings += done.accepted
        tally.duplicates += done.duplicates
        for reject in done.chunk.rejects { tally.rejectedByReason[reject.reason, default: 0] += 1 }
        try rejects?.append(done.chunk.rejects.sorted { $0.line < $1.line }, of: path)
        guard var state else { return }
        state.ordinal = done.ordinal + 1
        state.position = done.chunk.end
        state.rejectsBytes = rejects?.bytes
        state.readings += done.accepted
        state.duplicates += done.duplicates
        state.rejected += done.chunk.rejects.count
        try state.save(for: path)
        self.state = state
    }
}
