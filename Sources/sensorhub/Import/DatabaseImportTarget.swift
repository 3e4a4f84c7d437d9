import Logging
import SensorConfig
import SensorCore
import SensorPipeline
import SensorStore

/// Writes batches into the database file through the daemon's own pipeline, run in this
/// process: the same rules, dedupe, journal (the database's, so a daemon started later
/// replays what this left) and flushes. The store's writer lock makes it refuse while a
/// daemon holds the file, and keeps a daemon out while it runs.
final class DatabaseImportTarget: ImportTarget {
    private let pipeline: Pipeline
    private let store: any SensorStore
    private let entry: IngestEntry
    private let runner: Task<Void, any Error>

    /// Opens the database and recovers its journal.
    /// - Throws: ``ImportTargetFailure`` with the reason (held by a daemon, unreadable, a
    ///   journal that cannot be replayed).
    init(settings: Settings, logger: Logger) async throws {
        do {
            store = try await StoreOpening.openForWriting(settings, logger: logger)
        } catch {
            throw ImportTargetFailure(description: "cannot write the database \(StoreOpening.location(of: settings)): \(error)")
        }
        pipeline = PipelineSetup.pipeline(settings: settings, store: store, logger: logger)
        do {
            try pipeline.journal.prepareDirectory()
        } catch {
            try? await store.close()
            throw ImportTargetFailure(description: "cannot use the journal directory: \(error)")
        }
        entry = pipeline.entry(for: IngestTransport("import"))
        runner = Task { [pipeline] in try await pipeline.run() }
        await pipeline.recovered.wait()
        guard pipeline.isAccepting else {
            let failure: String
            do {
                try await runner.value
                failure = "the pipeline stopped"
            } catch {
                failure = "\(error)"
            }
            try? await store.close()
            throw ImportTargetFailure(description: "cannot recover the database's journal: \(failure)")
        }
    }

    func send(_ readings: [Reading], identity: BatchIdentity) async throws -> BatchAnswer {
        let batch = PreparedBatch(readings: readings, format: .ndjson, identity: identity)
        while true {
            try Task.checkCancellation()
            let (outcome, replayed) = await entry.submitCountingReplays(batch, waitingUpTo: .seconds(60))
            switch outcome {
            case .accepted(let accepted, let duplicates):
                return .taken(accepted: accepted, duplicates: duplicates, replayed: replayed)
            case .rejected(let error):
                guard let index = error.index else { throw ImportTargetFailure(description: error.message) }
                return .refused(index: index, reason: error.reason, message: error.message)
            case .queueFull:
                continue
            case .unavailable(let phase):
                throw ImportTargetFailure(description: "the pipeline is not taking readings (\(phase))")
            case .journalFailed(let problem):
                throw ImportTargetFailure(description: "cannot write the journal: \(problem)")
            }
        }
    }

    /// Stores what is pending and closes the database.
    func finish() async throws {
        pipeline.stopAccepting()
        do {
            try await runner.value
        } catch {
            throw ImportTargetFailure(description: "the pipeline stopped on error: \(error)")
        }
        if let problem = pipeline.degradation {
            try? await store.close()
            throw ImportTargetFailure(description: "not everything could be stored: \(problem)")
        }
        do {
            try await store.close()
        } catch {
            throw ImportTargetFailure(description: "cannot close the database: \(error)")
        }
    }
}
