import Foundation
import SensorCore
import SensorImport

/// Imports one input: reads chunks and sends them, and, in chunk order, counts each fully
/// acknowledged one, writes its rejects and records the position after it
/// (``ResumeState``).
///
/// Several batches are in flight at once, yet a series' readings are taken in file order:
/// each chunk is split over ``lanes`` by series hash, and each lane sends its batches one
/// after another. Order matters for readings with seq: a batch overtaking another of the
/// same series by more than 1024 seqs would make the earlier one's readings duplicates
/// (CONTRACT §2). The batch of chunk `k` in lane `l` is named `<stream>/<k·lanes+l>`, so a
/// resumed import, which splits the same chunks the same way, sends the same batches.
///
/// A batch the target refuses for one reading (time rules, series limits) is sent again
/// without it; that reading is a reject.
struct FileImporter {
    let path: String
    let reader: ImportReader
    let target: any ImportTarget
    let batchSize: Int
    let lanes: Int
    let rejects: RejectsFile?
    /// The state to keep beside the file; nil for stdin (nothing to resume).
    var state: ResumeState?
    let interrupt: ImportInterrupt

    /// One lane's part of a chunk.
    private struct Work: Sendable {
        let chunk: UInt64
        let readings: [Reading]
        let lines: [Int]
        let identity: BatchIdentity
    }

    /// What a lane reports for a part.
    private enum Report: Sendable {
        case done(chunk: UInt64, accepted: Int, duplicates: Int, replayed: Int, rejects: [ImportReject])
        case failed(any Error)
    }

    /// A chunk read and not yet committed.
    private struct Pending {
        var chunk: ImportChunk
        var partsLeft: Int
        var accepted = 0
        var duplicates = 0
        var replayed = 0
    }

    /// Runs to the end of the input, or until interrupted (false).
    /// - Throws: ``ImportTargetFailure``, ``ImportInputError`` or a resume state write error.
    mutating func run(progress: inout ImportProgress, tally: inout ImportTally, started: ContinuousClock.Instant) async throws -> Bool {
        let stream = state?.stream ?? ResumeState.newStream()
        let (reports, reported) = AsyncStream.makeStream(of: Report.self)
        var laneInputs: [AsyncStream<Work>.Continuation] = []
        let target = target
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<lanes {
                let (works, input) = AsyncStream.makeStream(of: Work.self)
                laneInputs.append(input)
                group.addTask {
                    for await work in works {
                        do {
                            reported.yield(try await Self.send(work, to: target))
                        } catch {
                            reported.yield(.failed(error))
                            return
                        }
                    }
                }
            }
            defer {
                for input in laneInputs { input.finish() }
                group.cancelAll()
            }
            var nextChunk = state?.ordinal ?? 0
            var nextToCommit = nextChunk
            var pending: [UInt64: Pending] = [:]
            var readerDone = false
            var iterator = reports.makeAsyncIterator()
            while true {
                // Read ahead while fewer chunks than lanes are outstanding.
                while pending.count <= lanes, !readerDone, !interrupt.requested {
                    guard let chunk = try reader.nextChunk(maxReadings: batchSize, arrivalTime: WallClock.microseconds()) else {
                        readerDone = true
                        break
                    }
                    let parts = split(chunk, number: nextChunk, stream: stream)
                    pending[nextChunk] = Pending(chunk: chunk, partsLeft: parts.count)
                    for (lane, work) in parts { laneInputs[lane].yield(work) }
                    nextChunk += 1
                }
                while let ready = pending[nextToCommit], ready.partsLeft == 0 {
                    pending[nextToCommit] = nil
                    try commit(ready, number: nextToCommit, tally: &tally)
                    nextToCommit += 1
                }
                progress.update(file: path, done: reader.fileBytesRead, total: reader.fileSize, readings: tally.readings, since: started)
                guard !pending.isEmpty else { return readerDone }
                switch await iterator.next() {
                case .done(let number, let accepted, let duplicates, let replayed, let refused)?:
                    pending[number]?.partsLeft -= 1
                    pending[number]?.accepted += accepted
                    pending[number]?.duplicates += duplicates
                    pending[number]?.replayed += replayed
                    pending[number]?.chunk.rejects += refused
                case .failed(let error)?:
                    throw error
                case nil:
                    return false
                }
            }
        }
    }

    /// The chunk's readings by lane (series hash), with their batch identities.
    private func split(_ chunk: ImportChunk, number: UInt64, stream: String) -> [(Int, Work)] {
        var readings = [[Reading]](repeating: [], count: lanes)
        var lines = [[Int]](repeating: [], count: lanes)
        for (reading, line) in zip(chunk.readings, chunk.lines) {
            let lane = lanes == 1 ? 0 : Int(reading.series.stableHash % UInt64(lanes))
            readings[lane].append(reading)
            lines[lane].append(line)
        }
        return (0..<lanes).compactMap { lane in
            guard !readings[lane].isEmpty else { return nil }
            let identity = BatchIdentity(stream: stream, ordinal: number * UInt64(lanes) + UInt64(lane))!
            return (lane, Work(chunk: number, readings: readings[lane], lines: lines[lane], identity: identity))
        }
    }

    /// Sends a lane's part, leaving out the readings the target refuses.
    ///
    /// The target names one refused reading at a time. The time rules are monotonic, so one
    /// refusal settles its like at once: when a reading is `too_late` (older than every
    /// retention), so is every reading no newer; when one is `future_ts`, so is every
    /// reading no older. A backfill reaching past the retention costs one round trip per
    /// batch, not one per old reading.
    private static func send(_ work: Work, to target: any ImportTarget) async throws -> Report {
        var readings = work.readings
        var lines = work.lines
        var refused: [ImportReject] = []
        while !readings.isEmpty {
            switch try await target.send(readings, identity: work.identity) {
            case .taken(let accepted, let duplicates, let replayed):
                return .done(chunk: work.chunk, accepted: accepted, duplicates: duplicates, replayed: replayed, rejects: refused)
            case .refused(let index, let reason, let message):
                let text = ImportReader.itemless(message.replacingOccurrences(of: "item \(index): ", with: ""))
                let limit = readings[index].timestamp
                let alike: (Reading) -> Bool = switch reason {
                case .tooLate: { $0.timestamp <= limit }
                case .futureTimestamp: { $0.timestamp >= limit }
                default: { _ in false }
                }
                var kept: [Int] = []
                for position in readings.indices {
                    if position == index {
                        refused.append(ImportReject(line: lines[position], reason: reason, message: text))
                    } else if alike(readings[position]) {
                        refused.append(ImportReject(line: lines[position], reason: reason, message: Self.alikeMessage(reason, refusedLine: lines[index])))
                    } else {
                        kept.append(position)
                    }
                }
                readings = kept.map { readings[$0] }
                lines = kept.map { lines[$0] }
            }
        }
        return .done(chunk: work.chunk, accepted: 0, duplicates: 0, replayed: 0, rejects: refused)
    }

    /// Why a reading was refused with the one on `refusedLine` (see ``send(_:to:)``).
    private static func alikeMessage(_ reason: RejectReason, refusedLine: Int) -> String {
        reason == .tooLate
            ? "ts is no newer than line \(refusedLine)'s, which is older than the retention of every resolution"
            : "ts is no older than line \(refusedLine)'s, which is too far in the future"
    }

    /// Counts a fully acknowledged chunk (in order), writes its rejects, then the position.
    /// Readings an interrupted run sent and did not get to record (`replayed`) count as
    /// readings: they were taken, once.
    private mutating func commit(_ done: Pending, number: UInt64, tally: inout ImportTally) throws {
        var counted = ImportTally()
        counted.readings = done.accepted + done.replayed
        counted.duplicates = done.duplicates - done.replayed
        for reject in done.chunk.rejects { counted.rejectedByReason[reject.reason, default: 0] += 1 }
        tally += counted
        try rejects?.append(done.chunk.rejects.sorted { $0.line < $1.line }, of: path)
        guard var state else { return }
        state.ordinal = number + 1
        state.position = done.chunk.end
        state.rejectsBytes = rejects?.bytes
        state.tally += counted
        try state.save(for: path)
        self.state = state
    }
}
