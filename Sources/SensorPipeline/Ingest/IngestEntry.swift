public import SensorCore

/// The one way readings get in. Every transport (MQTT, HTTP, file import, …) takes its
/// entry from ``Pipeline/entry(for:)`` and hands it each payload; the entry runs the same
/// steps in the same order for all of them:
///
/// 1. ``decode(_:format:context:)``: decode with the payload limit
///    (`limits.max_readings_per_payload`), all or nothing;
/// 2. ``submit(_:waitingUpTo:)`` (or ``check(_:)`` and ``submitCheckedBlocking(_:)`` on
///    a thread outside Swift concurrency): time rules (`future_ts`, `too_late`), series limits
///    (`series_limit`), then de-duplication and the journal append under the shards'
///    locks, then the queue;
///
/// and counts what it took and what it refused, by transport and format or reason. What
/// is left to the transport is its own protocol: content types, sizes of its frames,
/// authentication, and how it answers each ``Pipeline/SubmitOutcome``.
///
/// Thread-safety: a value of `Sendable` parts; call it from any thread or task.
public struct IngestEntry: Sendable {
    public let transport: IngestTransport
    let pipeline: Pipeline
    let counters: TransportCounters

    init(transport: IngestTransport, pipeline: Pipeline) {
        self.transport = transport
        self.pipeline = pipeline
        self.counters = TransportCounters(transport: transport)
    }

    /// Step 1: the readings of a payload, or why none of them can be taken (counted).
    public func decode(_ payload: UnsafeRawBufferPointer, format: PayloadFormat, context: DecodeContext) -> Result<PreparedBatch, DecodeError> {
        var context = context
        context.maxReadings = pipeline.configuration.limits.maxReadingsPerPayload
        do {
            return .success(PreparedBatch(readings: try ReadingDecoder.decode(payload, format: format, context: context), format: format))
        } catch {
            counters.recordRejected(error.reason)
            return .failure(error)
        }
    }

    /// Step 2: takes a batch atomically. Either every reading is durable in the journal
    /// and queued, or nothing is taken. Waits for queue room up to `wait`, then gives up
    /// with ``Pipeline/SubmitOutcome/queueFull`` (HTTP's 503 path). A batch with an
    /// ``PreparedBatch/identity`` that was taken before is answered with its readings as
    /// duplicates.
    public func submit(_ batch: PreparedBatch, waitingUpTo wait: Duration) async -> Pipeline.SubmitOutcome {
        await submitCountingReplays(batch, waitingUpTo: wait).outcome
    }

    /// ``submit(_:waitingUpTo:)``, also saying how many of the duplicates are readings of
    /// an identified batch taken before (`replayed`: counted then, by an earlier send).
    ///
    /// Those readings are left out before the rules are checked, so a batch sent again is
    /// judged only on what it still brings: a reading taken before and past the retention
    /// now is not refused, and a reading refused before is judged again. A refusal's index
    /// is the reading's position in the batch as sent.
    public func submitCountingReplays(_ batch: PreparedBatch, waitingUpTo wait: Duration) async -> (outcome: Pipeline.SubmitOutcome, replayed: Int) {
        var batch = batch
        var sentIndex: [Int]?
        var replayed = 0
        if let identity = batch.identity {
            let taken = pipeline.batchLedger.takenParts(of: identity)
            if !taken.isEmpty {
                let kept = batch.readings.indices.filter { !taken.covers(batch.readings[$0].series) }
                replayed = batch.readings.count - kept.count
                sentIndex = kept
                batch.readings = kept.map { batch.readings[$0] }
                if batch.readings.isEmpty {
                    pipeline.metrics.recordDuplicates(replayed)
                    return (.accepted(accepted: 0, duplicates: replayed), replayed)
                }
            }
        }
        var outcome: Pipeline.SubmitOutcome
        if let refusal = check(&batch) {
            outcome = refusal
        } else {
            outcome = counted(await pipeline.submit(batch.readings, slots: batch.slots, identity: batch.identity, waitingUpTo: wait), format: batch.format)
        }
        switch outcome {
        case .accepted(let accepted, let duplicates):
            if replayed > 0 { pipeline.metrics.recordDuplicates(replayed) }
            outcome = .accepted(accepted: accepted, duplicates: duplicates + replayed)
        case .rejected(var error):
            if let sentIndex, let index = error.index, sentIndex.indices.contains(index) {
                error.message = error.message.replacingOccurrences(of: "item \(index):", with: "item \(sentIndex[index]):")
                error.index = sentIndex[index]
                outcome = .rejected(error)
            }
        default:
            break
        }
        return (outcome, replayed)
    }

    /// Step 2's rules: time rules and series limits, where the first reading outside them
    /// rejects the batch (counted); nil when it may be taken, and the batch then holds its
    /// readings' registered series. ``submit(_:waitingUpTo:)`` checks them itself. A thread
    /// outside Swift concurrency (libmosquitto's network thread) checks each payload here,
    /// so a refusal stays that payload's own, and then submits the payloads it gathered
    /// (the messages of one read of the connection, ``PreparedBatch/append(_:)``) …
    public func check(_ batch: inout PreparedBatch) -> Pipeline.SubmitOutcome? {
        let refusal: DecodeError
        if let rejection = pipeline.timeRejection(of: batch.readings) {
            refusal = rejection
        } else {
            switch pipeline.series.admit(batch.readings) {
            case .success(let slots):
                batch.slots = slots
                return nil
            case .failure(let error):
                refusal = error
            }
        }
        counters.recordRejected(refusal.reason)
        return .rejected(refusal)
    }

    /// … then the gathered readings, which passed ``check(_:)``, in one submit. Like
    /// ``submit(_:waitingUpTo:)`` but it blocks the thread while a queue has no room or the
    /// journal cannot be written, so the MQTT acknowledgements wait and the broker keeps
    /// the backlog. Never answers `queueFull` or `journalFailed`.
    public func submitCheckedBlocking(_ batch: PreparedBatch) -> Pipeline.SubmitOutcome {
        counted(pipeline.submitBlocking(batch.readings, slots: batch.slots), format: batch.format)
    }

    /// Counts a refusal the transport made itself (an unknown content type, a frame over
    /// its size limit, a missing token).
    public func recordRejected(_ reason: RejectReason) {
        counters.recordRejected(reason)
    }

    private func counted(_ outcome: Pipeline.SubmitOutcome, format: PayloadFormat) -> Pipeline.SubmitOutcome {
        switch outcome {
        case .accepted(let accepted, _): counters.recordIngested(accepted, format: format)
        case .queueFull: counters.recordRejected(.queueFull)
        case .unavailable: counters.recordRejected(.unavailable)
        case .journalFailed: counters.recordRejected(.journalUnavailable)
        case .rejected(let error): counters.recordRejected(error.reason)
        }
        return outcome
    }
}
