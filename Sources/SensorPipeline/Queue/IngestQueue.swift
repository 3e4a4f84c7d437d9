public import SensorCore
internal import Synchronization
internal import DequeModule
internal import Dispatch

/// A bounded multi-producer, single-consumer queue of reading batches for one shard.
///
/// Capacity is counted in readings, not batches, so memory stays bounded whatever the
/// batch sizes. Producers reserve room before they enqueue: a task suspends until there is
/// room or its deadline passes (``reserve(_:until:)``, HTTP's path, which answers 503 once
/// its wait is up), and libmosquitto's thread blocks until there is room
/// (``reserveBlocking(_:)``: it must not return before the readings are queued). Waiting
/// producers of both kinds stand in one FIFO line, so a batch larger than the capacity,
/// which only an empty queue takes, gets in when the queue drains instead of losing every
/// race for room to smaller ones. The consumer takes everything queued at once
/// (``next()``), so one wake-up covers many batches.
///
/// Thread-safety: all state sits behind one `Mutex`; continuations are resumed outside it.
public final class IngestQueue: Sendable {
    public let capacity: Int

    /// What a producer that asked for room got.
    public enum Reservation: Sendable, Equatable {
        /// The room is reserved: ``enqueueReserved(_:)`` or ``cancelReservation(_:)`` follows.
        case reserved
        /// The deadline passed, or the waiting task was cancelled, first; nothing is reserved.
        case timedOut
        /// The queue was finished (``finish()``); nothing is reserved.
        case finished
    }

    /// A producer waiting for room: a suspended task or a blocked thread, resumed once
    /// with what it got. `id` finds a task again when its deadline passes.
    private struct Waiter {
        let id: UInt64
        let count: Int
        let resume: @Sendable (Reservation) -> Void
    }

    private struct State {
        var batches = Deque<JournaledBatch>()
        /// Readings queued plus readings reserved but not yet enqueued.
        var depth = 0
        var waiters = Deque<Waiter>()
        var nextWaiterID: UInt64 = 0
        /// Waiting tasks whose timer fired while they were not in line: one that has yet
        /// to stand in line must not.
        var expired: Set<UInt64> = []
        var consumer: CheckedContinuation<[JournaledBatch]?, Never>?
        var finished = false
        /// When the oldest reading the consumer took with its last ``next()`` was
        /// accepted; cleared when it calls `next()` again (it has applied them then).
        var inWork: ContinuousClock.Instant?
    }

    private let state = Mutex(State())

    public init(capacity: Int) {
        precondition(capacity > 0, "queue capacity must be positive")
        self.capacity = capacity
    }

    /// Readings queued or reserved right now (for the depth gauge).
    public var depth: Int { state.withLock { $0.depth } }

    /// Producers standing in line for room right now.
    var waitingProducers: Int { state.withLock { $0.waiters.count } }

    /// When the oldest reading that is queued, or taken by the consumer and not yet
    /// applied, was accepted; nil when there is none. Every reading accepted before it has
    /// reached the consumer's aggregation state.
    public var oldestUnapplied: ContinuousClock.Instant? {
        state.withLock { state in
            // Batches are queued in acceptance order: the first one is the oldest.
            [state.inWork, state.batches.first?.acceptedAt].compactMap { $0 }.min()
        }
    }

    /// Whether `count` more readings fit now. A batch larger than the whole capacity fits
    /// only into an empty queue, so it can never wait forever.
    private func fits(_ count: Int, depth: Int) -> Bool {
        depth == 0 || depth + count <= capacity
    }

    /// Gives back a reservation that will not be used.
    public func cancelReservation(_ count: Int) {
        let (woken, consumer) = state.withLock { state in
            state.depth -= count
            var consumer: CheckedContinuation<[JournaledBatch]?, Never>?
            if state.finished, state.depth == 0, state.batches.isEmpty {
                consumer = state.consumer
                state.consumer = nil
            }
            return (admitWaiters(&state), consumer)
        }
        for resume in woken { resume(.reserved) }
        consumer?.resume(returning: nil)
    }

    /// Enqueues a batch whose room was reserved with ``reserve(_:until:)`` or
    /// ``reserveBlocking(_:)``. Always succeeds, also after ``finish()``: reserved readings
    /// are never dropped.
    public func enqueueReserved(_ batch: JournaledBatch) {
        let consumer = state.withLock { state -> CheckedContinuation<[JournaledBatch]?, Never>? in
            state.batches.append(batch)
            guard let consumer = state.consumer else { return nil }
            state.consumer = nil
            return consumer
        }
        if let consumer { consumer.resume(returning: takeAll()) }
    }

    /// Reserves room for `count` readings, suspending while there is none, in the FIFO
    /// line of waiting producers, until `deadline`. Cancelling the task ends the wait as
    /// the deadline would. A deadline already past answers at once: room now, or
    /// ``Reservation/timedOut``.
    ///
    /// A producer can time out while the queue has room for it: the line is FIFO, and a
    /// larger batch before it waits for more.
    public func reserve(_ count: Int, until deadline: ContinuousClock.Instant) async -> Reservation {
        let (answer, id) = state.withLock { state -> (Reservation?, UInt64) in
            if let reserved = reserveNow(count, &state) { return (reserved ? .reserved : .finished, 0) }
            if deadline <= .now { return (.timedOut, 0) }
            defer { state.nextWaiterID &+= 1 }
            return (nil, state.nextWaiterID)
        }
        if let answer { return answer }
        let reservation = await withTaskGroup(of: Void.self) { timer in
            timer.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                self.expire(id)
            }
            let reservation = await standInLine(id: id, count: count)
            timer.cancelAll()
            return reservation
        }
        // The group waited for its timer: if that fired once this producer had left the
        // line, its mark is forgotten here.
        state.withLock { _ = $0.expired.remove(id) }
        return reservation
    }

    /// Suspends as waiter `id` until it is given room, refused or expired.
    func standInLine(id: UInt64, count: Int) async -> Reservation {
        await withCheckedContinuation { continuation in
            let immediate: Reservation? = state.withLock { state in
                let expired = state.expired.remove(id) != nil
                if let reserved = reserveNow(count, &state) { return reserved ? .reserved : .finished }
                if expired { return .timedOut }
                state.waiters.append(Waiter(id: id, count: count) { continuation.resume(returning: $0) })
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    /// Waiter `id`'s deadline passed (or its task was cancelled): it leaves the line with
    /// ``Reservation/timedOut``, and the producers behind it may fit now. One not in line
    /// (not yet, or no longer) is marked expired instead.
    func expire(_ id: UInt64) {
        let (expired, woken) = state.withLock { state -> ((@Sendable (Reservation) -> Void)?, [@Sendable (Reservation) -> Void]) in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else {
                state.expired.insert(id)
                return (nil, [])
            }
            let expired = state.waiters.remove(at: index).resume
            return (expired, admitWaiters(&state))
        }
        expired?(.timedOut)
        for resume in woken { resume(.reserved) }
    }

    /// Like ``reserve(_:until:)`` without a deadline, but blocks the calling thread; for
    /// threads outside Swift concurrency only (libmosquitto's), never from a task, where it
    /// would hold a cooperative thread hostage. Returns false, having reserved nothing, only
    /// when the queue was finished.
    public func reserveBlocking(_ count: Int) -> Bool {
        if let immediate = state.withLock({ reserveNow(count, &$0) }) { return immediate }
        // Only a producer that has to wait gets a semaphore: at one MQTT message per
        // reading, making one every time cost three allocations per reading.
        let wait = BlockingWait()
        let immediate: Bool? = state.withLock { state in
            if let reserved = reserveNow(count, &state) { return reserved }
            state.waiters.append(Waiter(id: state.nextWaiterID, count: count) { reservation in
                wait.reserved.store(reservation == .reserved, ordering: .releasing)
                wait.semaphore.signal()
            })
            state.nextWaiterID &+= 1
            return nil
        }
        if let immediate { return immediate }
        wait.semaphore.wait()
        return wait.reserved.load(ordering: .acquiring)
    }

    /// Under the lock: false when the queue was finished; true, having reserved the room,
    /// when `count` readings fit and no producer waits before them; nil when they must wait.
    private func reserveNow(_ count: Int, _ state: inout State) -> Bool? {
        if state.finished { return false }
        guard state.waiters.isEmpty, fits(count, depth: state.depth) else { return nil }
        state.depth += count
        return true
    }

    /// Waits for queued batches and takes all of them; nil once the queue is finished and
    /// empty. Only one consumer may call this.
    public func next() async -> [JournaledBatch]? {
        // Called again: what the last call returned is applied.
        state.withLock { $0.inWork = nil }
        let ready = takeAll()
        if !ready.isEmpty { return ready }
        return await withCheckedContinuation { continuation in
            let (result, woken): ([JournaledBatch]??, [@Sendable (Reservation) -> Void]) = state.withLock { state in
                if !state.batches.isEmpty {
                    let taken = takeAllLocked(&state)
                    return (.some(taken.batches), taken.woken)
                }
                if state.finished, state.depth == 0 { return (.some(nil), []) }
                state.consumer = continuation
                return (.none, [])
            }
            for resume in woken { resume(.reserved) }
            if let result { continuation.resume(returning: result) }
        }
    }

    /// Stops admitting new readings: waiting producers are refused (``Reservation/finished``,
    /// or false from ``reserveBlocking(_:)``). Already reserved readings may still be
    /// enqueued; the consumer gets nil once all are taken.
    public func finish() {
        let (waiters, consumer) = state.withLock { state in
            state.finished = true
            let waiters = state.waiters.map(\.resume)
            state.waiters.removeAll()
            var consumer: CheckedContinuation<[JournaledBatch]?, Never>?
            if state.batches.isEmpty, state.depth == 0 {
                consumer = state.consumer
                state.consumer = nil
            }
            return (waiters, consumer)
        }
        for waiter in waiters { waiter(.finished) }
        consumer?.resume(returning: nil)
    }

    private func takeAll() -> [JournaledBatch] {
        let (batches, woken) = state.withLock { takeAllLocked(&$0) }
        for resume in woken { resume(.reserved) }
        return batches
    }

    private func takeAllLocked(_ state: inout State) -> (batches: [JournaledBatch], woken: [@Sendable (Reservation) -> Void]) {
        guard !state.batches.isEmpty else { return ([], []) }
        let batches = Array(state.batches)
        state.batches.removeAll(keepingCapacity: true)
        state.inWork = batches.lazy.compactMap(\.acceptedAt).min()
        state.depth -= batches.reduce(0) { $0 + $1.readings.count }
        return (batches, admitWaiters(&state))
    }

    /// Hands freed room to waiting producers in FIFO order.
    private func admitWaiters(_ state: inout State) -> [@Sendable (Reservation) -> Void] {
        var admitted: [@Sendable (Reservation) -> Void] = []
        while let waiter = state.waiters.first, fits(waiter.count, depth: state.depth) {
            state.waiters.removeFirst()
            state.depth += waiter.count
            admitted.append(waiter.resume)
        }
        return admitted
    }
}

/// Where a blocked thread learns whether it got its room.
private final class BlockingWait: Sendable {
    let semaphore = DispatchSemaphore(value: 0)
    let reserved = Atomic<Bool>(false)
}

/// Readings of one journal record on their way to the shard's worker, with the journal
/// position just past that record: once the worker applied the batch, a flush of its
/// buckets covers the journal up to `position`.
public struct JournaledBatch: Sendable, Equatable {
    public var readings: [QueuedReading]
    public var position: Int64
    /// When the batch was taken (acknowledged), for the ingest-to-flush latency; nil for
    /// a batch replayed from the journal, whose acceptance time is unknown.
    public var acceptedAt: ContinuousClock.Instant?
    /// The part of an identified batch these readings are, stored with the flush.
    public var mark: BatchMark?

    init(_ part: ShardPart, position: Int64, acceptedAt: ContinuousClock.Instant?, mark: BatchMark? = nil) {
        self.readings = zip(part.readings, part.series).map { QueuedReading($0, series: $1) }
        self.position = position
        self.acceptedAt = acceptedAt
        self.mark = mark
    }
}
