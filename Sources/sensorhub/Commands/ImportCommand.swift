import ArgumentParser
import Foundation
import Logging
import SensorConfig
import SensorCore
import SensorImport

/// `sensorhub import`: streams files of readings into SensorHub (CONTRACT §6), through a
/// running daemon (`--server`, the default) or straight into the database file (`--db`),
/// with constant memory, rejects by line, and `--resume` after an interruption.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import files of readings (JSON, NDJSON, SenML, line protocol, CSV; gzip too) into SensorHub.",
        discussion: """
            FILE may be - for stdin. Bad records are skipped, counted by reason and, with \
            --rejects, written there with their line numbers. Each file's progress is kept in \
            FILE.sensorhub-import until the command completes; after an interruption, run the \
            same command with --resume to continue after the last acknowledged batch: every \
            reading is counted once.
            """)

    @Option(help: "URL of a running daemon (default http://127.0.0.1:8080).") var server: String?
    @Option(help: "Write this database file directly (refused while a daemon holds it).") var db: String?
    @Option(help: "With --db: YAML configuration (resolutions, retention, limits, journal).") var config: String?
    @Option(help: "Bearer token for the daemon (default: $SENSORHUB_TOKEN).") var token: String?
    @Option(help: "PEM file of the CA to trust for an https:// --server (default: $SENSORHUB_CACERT).") var cacert: String?
    @Option(help: "auto, json, ndjson, senml, lp or csv (auto: by extension, else by content).") var format: String = "auto"
    @Option(help: "Readings per batch.") var batch: Int = 5_000
    @Option(help: "Batches sent at once (each series' readings still go in file order).") var inFlight: Int = 4
    @Flag(help: "Continue interrupted imports of these files.") var resume = false
    @Flag(help: "Read and check the files (format and reading rules), write the rejects, store nothing.") var dryRun = false
    @Option(help: "Write each rejected record here: FILE:LINE<TAB>reason<TAB>message.") var rejects: String?
    @Argument(help: "Files to import; - for stdin.") var files: [String]

    func validate() throws {
        if server != nil, db != nil { throw ValidationError("give --server or --db, not both") }
        if dryRun, server != nil || db != nil || resume { throw ValidationError("--dry-run sends nothing: it takes no --server, --db or --resume") }
        if config != nil, db == nil { throw ValidationError("--config applies to --db only (a daemon uses its own)") }
        guard format == "auto" || ImportFormat(rawValue: format) != nil else {
            throw ValidationError("unknown --format \(format): use auto, json, ndjson, senml, lp or csv")
        }
        guard (1...100_000).contains(batch) else { throw ValidationError("--batch must be 1 to 100000 readings") }
        guard (1...64).contains(inFlight) else { throw ValidationError("--in-flight must be 1 to 64") }
        if files.filter({ $0 == "-" }).count > 1 { throw ValidationError("stdin (-) can be read once") }
        if resume, files.contains("-") { throw ValidationError("--resume cannot continue stdin (-): import a file to be able to resume") }
        let resolved = files.filter { $0 != "-" }.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().standardizedFileURL.path }
        if Set(resolved).count != resolved.count { throw ValidationError("a file is named twice") }
    }

    func run() async throws {
        let interrupt = ImportInterrupt()
        let chosenFormat = ImportFormat(rawValue: format)
        var states: [String: ResumeState] = [:]
        for file in files where file != "-" {
            guard FileManager.default.isReadableFile(atPath: file) else { throw CommandFailure.fail("\(file): no such readable file") }
            // A dry run leaves interrupted imports alone.
            if dryRun { continue }
            if !resume, FileManager.default.fileExists(atPath: ResumeState.path(of: file)) {
                throw CommandFailure.usage("\(ResumeState.path(of: file)) exists: an import of \(file) was interrupted; add --resume to continue it, or delete that file to import \(file) from the start")
            }
            let state: ResumeState?
            do {
                state = try ResumeState.load(for: file)
            } catch {
                throw CommandFailure.fail("\(ResumeState.path(of: file)): cannot be read (\(error)); delete it to import \(file) from the start")
            }
            if let state { states[file] = state }
        }
        let target = try await makeTarget()
        let rejectsFile: RejectsFile?
        do {
            rejectsFile = try rejects.map { try RejectsFile(path: $0, cutTo: resume ? states.values.compactMap(\.rejectsBytes).max() ?? 0 : nil) }
        } catch {
            try? await target.finish()
            throw CommandFailure.fail("--rejects: \(error)")
        }

        let started = ContinuousClock.now
        var tally = ImportTally()
        var progress = ImportProgress()
        var completed = 0
        var failure: String?
        for file in files {
            if interrupt.requested { break }
            if let state = states[file], state.complete {
                progress.finish(file: file, summary: "imported before the interruption: " + state.tally.text)
                tally += state.tally
                completed += 1
                continue
            }
            do {
                if try await importFile(file, state: states[file], format: chosenFormat, target: target, rejects: rejectsFile,
                                        interrupt: interrupt, progress: &progress, tally: &tally, started: started) {
                    completed += 1
                }
            } catch let error as ImportTargetFailure {
                failure = error.description
                break
            } catch {
                // An input that cannot be read (or a state that cannot be written) ends this
                // file; the others still go.
                failure = "\(error)"
                CommandFailure.printError(failure!)
            }
        }
        do {
            try await target.finish()
        } catch {
            failure = failure ?? "\(error)"
        }
        let elapsed = (ContinuousClock.now - started) / .seconds(1)
        let allDone = completed == files.count && failure == nil
        if allDone, !dryRun {
            for file in files where file != "-" { ResumeState.remove(for: file) }
        } else if let failure {
            CommandFailure.printError("import stopped: \(failure)")
        }
        if !allDone, !dryRun, files.contains(where: { $0 != "-" }) {
            let resumable = files.filter { $0 != "-" }.map { "'\($0)'" }.joined(separator: " ")
            FileHandle.standardError.write(Data("import: \(interrupt.requested ? "interrupted" : "not finished"); continue with: sensorhub import --resume \(resumeArguments) \(resumable)\n".utf8))
        }
        let rate = elapsed > 0 ? Double(tally.readings) / elapsed : 0
        FileHandle.standardError.write(Data(String(format: "import: files=%d readings=%d duplicates=%d rejected=%d elapsed=%.1fs rate=%.0f readings/s\n",
                                                   completed, tally.readings, tally.duplicates, tally.rejected, elapsed, rate).utf8))
        if !allDone || tally.rejected > 0 { throw ExitCode(1) }
    }

    /// Imports one file; false when interrupted before its end.
    private func importFile(_ file: String, state: ResumeState?, format: ImportFormat?, target: any ImportTarget, rejects: RejectsFile?,
                            interrupt: ImportInterrupt, progress: inout ImportProgress, tally: inout ImportTally,
                            started: ContinuousClock.Instant) async throws -> Bool {
        let reader = try ImportReader(path: file, format: state?.format ?? format, from: state?.position ?? .start)
        if let state, state.fileSize != reader.fileSize || state.fileModified != reader.fileModified {
            throw ResumeStateError("\(file) changed since its import was interrupted (size or modification time); delete \(ResumeState.path(of: file)) to import it from the start")
        }
        var current = state
        if current == nil, file != "-", !dryRun {
            // Saved before the first batch goes out, so its stream names every batch sent.
            current = ResumeState(stream: ResumeState.newStream(), format: reader.format, batch: batch, lanes: inFlight, ordinal: 0, position: .start,
                                  fileSize: reader.fileSize, fileModified: reader.fileModified, rejectsBytes: rejects?.bytes)
            try current!.save(for: file)
        }
        // A resumed file's counts go on from what the interrupted run recorded.
        var fileTally = state?.tally ?? ImportTally()
        var importer = FileImporter(path: file, reader: reader, target: target, batchSize: current?.batch ?? batch,
                                    lanes: current?.lanes ?? inFlight, rejects: rejects, state: current, interrupt: interrupt)
        let fileStarted = ContinuousClock.now
        let finished = try await importer.run(progress: &progress, tally: &fileTally, started: fileStarted)
        tally += fileTally
        if finished, var done = importer.state {
            done.complete = true
            try done.save(for: file)
        }
        if reader.ignoredTrailingBytes > 0 {
            FileHandle.standardError.write(Data("import: \(file): ignored \(reader.ignoredTrailingBytes) bytes after the end of the gzip stream\n".utf8))
        }
        if !reader.ignoredColumns.isEmpty {
            FileHandle.standardError.write(Data("import: \(file): columns without numbers were not imported: \(reader.ignoredColumns.joined(separator: ", "))\n".utf8))
        }
        let seconds = (ContinuousClock.now - fileStarted) / .seconds(1)
        progress.finish(file: file, summary: fileTally.text + String(format: " elapsed=%.1fs%@", seconds, finished ? "" : " (interrupted)"))
        return finished
    }

    /// The options a resumed command needs again.
    private var resumeArguments: String {
        var arguments: [String] = []
        if let db { arguments += ["--db", "'\(db)'"] } else if let server { arguments += ["--server", server] }
        if let config { arguments += ["--config", "'\(config)'"] }
        if let rejects { arguments += ["--rejects", "'\(rejects)'"] }
        return arguments.joined(separator: " ")
    }

    private func makeTarget() async throws -> any ImportTarget {
        if dryRun { return DryRunImportTarget() }
        if let db {
            let settings: Settings
            do {
                settings = try Settings.load(file: config, flags: StoreOpening.flags(db: db))
            } catch {
                throw CommandFailure.usage("configuration: \(error.description)")
            }
            let logger = LogSetup.bootstrap(level: .warning, format: settings.log.format.rawValue)
            do {
                return try await DatabaseImportTarget(settings: settings, logger: logger)
            } catch {
                throw CommandFailure.fail("\(error)")
            }
        }
        do {
            return ServerImportTarget(transport: try DaemonTransport(server: server ?? "http://127.0.0.1:8080", token: token, cacert: cacert))
        } catch let exit as ExitCode {
            throw exit
        }
    }
}
