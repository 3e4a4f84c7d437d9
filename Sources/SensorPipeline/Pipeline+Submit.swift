internal import SensorCore
internal import Foundation
internal import Synchronization

extension Pipeline {
    /// Submits a batch atomically: either every reading is durable in the journal and
    /// queued, or nothing is taken. Waits for queue room up to `wait`, then gives up with
    /// ``SubmitOutcome/queueFull`` (HTTP's 503 path). Only through ``IngestEntry``, which
    /// checks the rules first.
    func submit(_ readings: [Reading], slots: [SeriesSlot], identity: BatchIdentity? = nil, waitingUpTo wait: Duration) async -> SubmitOutcome {
        guard phase == .accepting else { return .unavailable(phase) }
        let parts = partition(readings, slots: slots)
        switch await reserveAll(parts, until: ContinuousClock.now + wait) {
        case .reserved:
            let outcome = admit(parts, identity: identity)
            if case .journalFailed = outcome { cancelReservations(parts) }
            return outcome
        case .timedOut:
            return .queueFull
        case .finished:
            return .unavailable(phase)
        }
    }

    /// Submits a batch from a thread outside Swift concurrency (libmosquitto's network
    /// thread), blocking it until the batch is durable and queued: while a queue has no
    /// room for it or the journal cannot be written, the MQTT acknowledgement is not sent
    /// and the broker keeps the backlog. Answers `unavailable`, having taken nothing, when
    /// the pipeline is not accepting (recovering or shutting down).
    func submitBlocking(_ readings: [Reading], slots: [SeriesSlot]) -> SubmitOutcome {
        guard isAccepting else { return .unavailable(phase) }
        let parts = partition(readings, slots: slots)
        guard reserveBlocking(parts) else { return .unavailable(phase) }
        while true {
            let outcome = admit(parts)
            if case .accepted = outcome { return outcome }
            // The journal failed and was logged; retry until it works again or shutdown.
            guard isAccepting else {
                cancelReservations(parts)
                return .unavailable(phase)
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    /// Stages every part in its shard (de-duplication + journal append) with all those
    /// shards locked in index order, then either commits all or rolls all back, so a
    /// batch spanning shards is atomic. Room in the queues must be reserved; on failure
    /// the reservations are left to the caller.
    ///
    /// An identified batch leaves out the readings of its parts already taken (a batch
    /// sent again), counted as duplicates, and each part's record carries its
    /// ``BatchMark``, so whatever crashes between two shards' appends, sending the batch
    /// again takes exactly what is missing.
    func admit(_ parts: [ShardPart], identity: BatchIdentity? = nil) -> SubmitOutcome {
        let outcome = admitLocked(parts, identity: identity)
        // Stopping every shard's journal takes their locks, so only once they are released.
        if case .journalFatal(let error) = outcome {
            journalFailedForGood(error)
            return .journalFailed(error.description)
        }
        return outcome.submitOutcome
    }

    /// What ``admitLocked(_:)`` ended with: an outcome, or a fatal journal error still to
    /// be acted on.
    private enum Admission {
        case done(SubmitOutcome)
        case journalFatal(JournalError)

        var submitOutcome: SubmitOutcome {
            switch self {
            case .done(let outcome): outcome
            case .journalFatal(let error): .journalFailed(error.description)
            }
        }
    }

    private func admitLocked(_ parts: [ShardPart], identity: BatchIdentity?) -> Admission {
        let involved = parts.indices.filter { !parts[$0].isEmpty }
        for index in involved { shards[index].ingress.lock() }
        defer { for index in involved { shards[index].ingress.unlock() } }
        // Under the shards' locks: a batch sent twice at once locks the same shards, so
        // the second sees what the first took.
        let taken = identity.map { batchLedger.takenParts(of: $0) } ?? []
        var replayed = 0
        var staged: [(index: Int, staged: ShardIngress.Staged)] = []
        staged.reserveCapacity(involved.count)
        for index in involved {
            var part = parts[index]
            if !taken.isEmpty {
                part = part.removingAll { taken.covers($0.series) }
                replayed += parts[index].count - part.count
            }
            let mark = identity.map { BatchMark(identity: $0, part: BatchPart(shards: UInt16(shards.count), index: UInt16(index))) }
            do {
                staged.append((index, try shards[index].ingress.stage(part, mark: mark)))
            } catch {
                for (done, stagedPart) in staged.reversed() {
                    if let failure = shards[done].ingress.rollBack(stagedPart) {
                        logger.critical("cannot roll back a journal append; those readings will be counted after a restart", metadata: ["error": "\(failure)"])
                    }
                }
                if error.isFatal { return .journalFatal(error) }
                let first = journalFailure.withLock { failure in
                    defer { failure = error.description }
                    return failure == nil
                }
                journalFailing.store(true, ordering: .relaxed)
                if first {
                    logger.error("journal append failed; refusing readings until it works again", metadata: ["error": "\(error)"])
                }
                return .done(.journalFailed(error.description))
            }
        }
        // One atomic load on the hot path; the lock only while recovering from a failure.
        if journalFailing.load(ordering: .relaxed), journalFailure.withLock({ $0.take() }) != nil {
            journalFailing.store(false, ordering: .relaxed)
            logger.notice("journal appends work again; taking readings")
        }
        var accepted = 0
        var duplicates = replayed
        let now = WallClock.microseconds()
        for (index, stagedPart) in staged {
            shards[index].ingress.commit(stagedPart, reserved: parts[index].count)
            accepted += stagedPart.kept.count
            duplicates += stagedPart.duplicates
            if let mark = stagedPart.mark, !stagedPart.kept.isEmpty { batchLedger.record(mark, at: now) }
        }
        if duplicates > 0 { metrics.recordDuplicates(duplicates) }
        return .done(.accepted(accepted: accepted, duplicates: duplicates))
    }

    /// A sync of the journal failed: what the kernel held for it may never reach the disk,
    /// and nothing says which records. Stops taking readings for good (every shard's
    /// journal refuses appends, `/healthz` says degraded); a restart replays what is
    /// really on disk. Readings acknowledged since the last good sync are at risk only
    /// from a power loss, as with the `interval` policy.
    func journalFailedForGood(_ error: JournalError) {
        for shard in shards { shard.ingress.failJournal(error) }
        let first = journalFatal.withLock { fatal in
            defer { fatal = fatal ?? error.description }
            return fatal == nil
        }
        if first {
            logger.critical("journal sync failed; refusing every reading until the daemon is restarted", metadata: ["error": "\(error)"])
        }
    }

    /// Each shard's readings, by the shard their series was registered with (`slots`, one
    /// per reading).
    func partition(_ readings: [Reading], slots: [SeriesSlot]) -> [ShardPart] {
        precondition(readings.count == slots.count, "one registered series per reading")
        if shards.count == 1 { return [ShardPart(readings: readings, series: slots.map(\.index))] }
        var parts = [ShardPart](repeating: ShardPart(), count: shards.count)
        for (reading, slot) in zip(readings, slots) {
            parts[Int(slot.shard)].append(reading, series: slot.index)
        }
        return parts
    }

    /// Reserves room for every part, waiting in each queue's line until `deadline`, or for
    /// none. Shards are reserved in index order, as ``reserveBlocking(_:)`` does, so no two
    /// producers each hold room the other waits for. The room of the shards before one
    /// that has to wait stays reserved meanwhile (up to `http.queue_wait`): while one
    /// shard's queue is stuck full, batches spanning it hold room in the others too.
    private func reserveAll(_ parts: [ShardPart], until deadline: ContinuousClock.Instant) async -> IngestQueue.Reservation {
        for (index, part) in parts.enumerated() where !part.isEmpty {
            let reservation = await shards[index].queue.reserve(part.count, until: deadline)
            guard reservation == .reserved else {
                releaseReservations(parts, before: index)
                return reservation
            }
        }
        return .reserved
    }

    /// Reserves room for every part, blocking the thread while a queue has none; false,
    /// reserving nothing, once a queue was finished.
    private func reserveBlocking(_ parts: [ShardPart]) -> Bool {
        for (index, part) in parts.enumerated() where !part.isEmpty {
            guard shards[index].queue.reserveBlocking(part.count) else {
                releaseReservations(parts, before: index)
                return false
            }
        }
        return true
    }

    /// Gives back the reservations of the parts before `index`.
    private func releaseReservations(_ parts: [ShardPart], before index: Int) {
        for done in 0..<index where !parts[done].isEmpty { shards[done].queue.cancelReservation(parts[done].count) }
    }

    private func cancelReservations(_ parts: [ShardPart]) {
        releaseReservations(parts, before: parts.count)
    }
}
