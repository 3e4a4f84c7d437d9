public import Logging
public import SensorCore
public import SensorPipeline
public import SensorStore

/// Judges the configured rules and queues forwarded buckets after every committed flush
/// (CONTRACT §7), from what the store holds: every closed window is seen exactly once,
/// whether or not anyone listens live.
///
/// A window `[s, s + w)` is closed once a flush committed that holds every reading
/// acknowledged before `s + w + lateness` (``FlushObserver``). Each rule, and each forwarded resolution, keeps a position: the end of the
/// last closed window it handled. An evaluation reads the windows between its position
/// and the newest closed one, and commits in ONE transaction the states it changed, the
/// deliveries its transitions caused (webhook posts, MQTT messages, forwarded rows) and
/// its new position. A restart reloads them: a window is judged once, a transition
/// delivered once queued, nothing is repeated or lost. A failed commit changes nothing in
/// memory either; the next flush tries the same windows again.
///
/// A reading that arrives after its window closed still merges into the stored bucket,
/// but the window is not judged or forwarded again.
public actor RuleEngine: FlushObserver {
    private let rules: [AlertRule]
    private let forward: ForwardRule?
    private let store: any RuleStore
    private let live: LiveFeed?
    private let lateness: Int64
    private let maxQueued: Int
    private let keepResolved: Int64
    private let logger: Logger
    private let metrics = RuleMetrics()
    /// States by rule and series, as committed.
    private var states: [String: [SeriesKey: AlertState]] = [:]
    /// Positions by name (a rule's name, `forward:<resolution>`), as committed.
    private var positions: [String: Int64] = [:]
    /// Windows one evaluation reads at most; halved when the answer would be too large.
    private var windowsPerRead: [String: Int64] = [:]
    private var lastPrune: Int64 = 0
    /// When each absent rule reads its series' last-seen times next.
    private var nextSilenceCheck: [String: Int64] = [:]
    /// When ``start()`` ran: absent rules count a silence from then at the earliest, so a
    /// restart after a long stop does not fire for every series before the broker had a
    /// chance to hand over what it kept meanwhile.
    private var startedAt: Int64 = 0
    /// Whether the last evaluation failed (logged once per stretch).
    private var failing = false

    /// The longest catch-up one transaction covers, in windows.
    static let maxWindowsPerRead: Int64 = 360
    /// The most rows one read of several windows may hold (fewer windows are read when
    /// more would come); a single window is read whole, however many series it has.
    static let maxRowsPerRead = 50_000

    public init(
        rules: [AlertRule], forward: ForwardRule?, store: any RuleStore, live: LiveFeed?, lateness: Duration,
        maxQueued: Int, keepResolved: Duration, logger: Logger
    ) {
        self.rules = rules
        self.forward = forward
        self.store = store
        self.live = live
        self.lateness = lateness.microseconds
        self.maxQueued = maxQueued
        self.keepResolved = keepResolved.microseconds
        self.logger = logger
    }

    /// Whether there is anything to evaluate.
    public var isActive: Bool { !rules.isEmpty || forward != nil }

    /// Loads the committed states and positions, and forgets those of rules no longer
    /// configured. Call before the first flush; `now` is the wall clock (µs).
    public func start(at now: Int64 = WallClock.microseconds()) async throws(StoreError) {
        let keep = Set(rules.map(\.name) + (forward?.resolutions.map(Self.forwardPosition) ?? []))
        try await store.pruneRules(keeping: keep, rules: Set(rules.map(\.name)), resolvedBefore: now - keepResolved)
        startedAt = now
        let snapshot = try await store.ruleSnapshot()
        states = snapshot.states
        positions = snapshot.positions
        for rule in rules { metrics.firing(rule: rule.name, count: firingCount(rule.name)) }
        metrics.queued.record(store.queuedDeliveryCount)
    }

    public func flushCommitted(completeBefore now: Int64) async {
        let started = ContinuousClock.now
        defer { metrics.evaluationDuration.recordNanoseconds((ContinuousClock.now - started).nanoseconds) }
        for rule in rules {
            switch rule.condition {
            case .threshold(let threshold):
                await judgeClosedWindows(of: rule, threshold, now: now)
            case .absent(let duration):
                await judgeSilences(of: rule, absent: duration.microseconds, now: now)
            }
        }
        if let forward {
            for resolution in forward.resolutions {
                await forwardClosedBuckets(of: resolution, topic: forward.topic, now: now)
            }
        }
        if now - lastPrune > 3_600_000_000 {
            lastPrune = now
            await pruneResolved(now: now)
        }
    }

    // MARK: - Threshold rules

    private func judgeClosedWindows(of rule: AlertRule, _ threshold: AlertRule.Threshold, now: Int64) async {
        await forEachClosedRange(position: rule.name, resolution: threshold.resolution, deviceGlob: rule.device.pattern,
                                 metricGlob: rule.metric.pattern, now: now) { rows, until in
            let before = states[rule.name] ?? [:]
            var ruleStates = before
            var touched: Set<SeriesKey> = []
            var transitions: [(SeriesKey, AlertState)] = []
            for row in rows {
                let record = row.record
                var state = ruleStates[row.series] ?? AlertState()
                let transition = state.judge(
                    windowStart: row.windowStart, windowEnd: row.windowEnd, value: threshold.statistic.value(in: record),
                    met: threshold.isMet(by: record), required: threshold.windows)
                // A quiet series without a streak is not kept: most series, most windows.
                ruleStates[row.series] = state.isWorthKeeping ? state : nil
                touched.insert(row.series)
                if transition != nil { transitions.append((row.series, state)) }
            }
            let changes = touched.filter { before[$0] != ruleStates[$0] }.map {
                RuleStateChange(rule: rule.name, series: $0, state: ruleStates[$0] ?? AlertState())
            }
            return await commit(rule: rule, states: ruleStates, changes: changes, transitions: transitions, position: (rule.name, until))
        }
    }

    // MARK: - Absent rules

    /// Reads the last-seen times of the rule's series (all of them: one row each) at most
    /// ten times per `absent`. A transition's `since` does not depend on when it is seen,
    /// only how soon: at most a tenth of the duration late.
    private func judgeSilences(of rule: AlertRule, absent: Int64, now: Int64) async {
        if let next = nextSilenceCheck[rule.name], now < next { return }
        nextSilenceCheck[rule.name] = now + absent / 10
        let seen: [(series: SeriesKey, lastSeen: Int64)]
        do {
            seen = try await store.lastSeen(deviceGlob: rule.device.pattern, metricGlob: rule.metric.pattern)
        } catch {
            evaluationFailed(error, rule: rule.name)
            return
        }
        var ruleStates = states[rule.name] ?? [:]
        var changes: [RuleStateChange] = []
        var transitions: [(SeriesKey, AlertState)] = []
        for (series, lastSeen) in seen {
            var state = ruleStates[series] ?? AlertState()
            guard state.judgeSilence(lastSeen: lastSeen, watchedSince: startedAt, now: now, absent: absent) != nil else { continue }
            ruleStates[series] = state
            changes.append(RuleStateChange(rule: rule.name, series: series, state: state))
            transitions.append((series, state))
        }
        guard !changes.isEmpty else { return }
        _ = await commit(rule: rule, states: ruleStates, changes: changes, transitions: transitions, position: nil)
    }

    // MARK: - Forwarding

    static func forwardPosition(_ resolution: Resolution) -> String { "forward:\(resolution)" }

    private func forwardClosedBuckets(of resolution: Resolution, topic: TopicTemplate, now: Int64) async {
        let name = Self.forwardPosition(resolution)
        await forEachClosedRange(position: name, resolution: resolution, deviceGlob: "*", metricGlob: "*", now: now) { rows, until in
            let deliveries = rows.map { row in
                Delivery(
                    channel: Delivery.mqttChannel, rule: "forward",
                    topic: topic.expand(["device": row.series.device, "metric": row.series.metric, "resolution": resolution.description]),
                    body: row.record.json)
            }
            guard await commitQuietly(RuleCommit(positions: [name: until], deliveries: deliveries), what: name) else { return false }
            positions[name] = until
            metrics.forwarded(resolution: resolution.description, count: deliveries.count)
            return true
        }
    }

    // MARK: - Shared steps

    /// Calls `handle` with the rows of the closed windows after `position`, a bounded
    /// range at a time, until it is caught up or `handle` fails. A position never stored
    /// starts at the newest closed window: a new rule judges from now on.
    private func forEachClosedRange(
        position name: String, resolution: Resolution, deviceGlob: String, metricGlob: String, now: Int64,
        handle: ([AggregateRow], Int64) async -> Bool
    ) async {
        let width = resolution.microseconds
        let closedEnd = Self.floor(now - lateness, to: width)
        guard var from = positions[name] else {
            if await commitQuietly(RuleCommit(positions: [name: closedEnd]), what: name) { positions[name] = closedEnd }
            return
        }
        while from < closedEnd {
            let span = windowsPerRead[name] ?? Self.maxWindowsPerRead
            let until = min(closedEnd, from + span * width)
            let rows: [AggregateRow]
            do {
                rows = try await store.aggregates(
                    AggregateQuery(deviceGlob: deviceGlob, metricGlob: metricGlob, window: resolution, from: from, to: until),
                    rowLimit: span > 1 ? Self.maxRowsPerRead : Int.max)
            } catch {
                if case .tooManyRows = error, span > 1 {
                    windowsPerRead[name] = span / 2
                    continue
                }
                evaluationFailed(error, rule: name)
                return
            }
            guard await handle(rows, until) else { return }
            from = until
        }
    }

    /// Commits a rule's changed states, its transitions' deliveries and its position;
    /// on success adopts `states`, tells live subscribers and counts. Returns whether it
    /// committed.
    private func commit(
        rule: AlertRule, states ruleStates: [SeriesKey: AlertState], changes: [RuleStateChange],
        transitions: [(SeriesKey, AlertState)], position: (String, Int64)?
    ) async -> Bool {
        let alerts = transitions.map { AlertRecord(rule: rule.name, series: $0.0, state: $0.1) }
        var deliveries: [Delivery] = []
        for alert in alerts {
            for action in rule.actions {
                switch action {
                case .webhook(let url):
                    deliveries.append(Delivery(channel: Delivery.webhookChannel(url), rule: rule.name, body: alert.json))
                case .mqtt(let topic):
                    deliveries.append(Delivery(
                        channel: Delivery.mqttChannel, rule: rule.name,
                        topic: topic.expand(["rule": rule.name, "device": alert.device, "metric": alert.metric]), body: alert.json))
                }
            }
        }
        var commit = RuleCommit(states: changes, deliveries: deliveries)
        if let (name, until) = position { commit.positions[name] = until }
        guard await commitQuietly(commit, what: rule.name) else { return false }
        states[rule.name] = ruleStates
        if let (name, until) = position { positions[name] = until }
        for alert in alerts {
            metrics.transition(rule: rule.name, firing: alert.state == "firing")
            logger.notice("alert \(alert.state)", metadata: [
                "rule": "\(alert.rule)", "device": "\(alert.device)", "metric": "\(alert.metric)",
                "since": "\(alert.since)", "value": "\(alert.value.map { "\($0)" } ?? "null")",
            ])
        }
        if !alerts.isEmpty {
            metrics.firing(rule: rule.name, count: firingCount(rule.name))
            live?.publish(alerts: alerts)
        }
        return true
    }

    /// One store commit; logs a failure (once per stretch of failures) and says whether it worked.
    private func commitQuietly(_ commit: RuleCommit, what: String) async -> Bool {
        do {
            let (queued, dropped) = try await store.commitRules(commit, maxQueued: maxQueued)
            if dropped > 0 {
                metrics.dropped.increment(by: dropped)
                logger.error("dropped the oldest queued deliveries: more than alerts.max_queued wait for their targets", metadata: [
                    "dropped": "\(dropped)", "max_queued": "\(maxQueued)",
                ])
            }
            if !queued.isEmpty { metrics.queued.record(store.queuedDeliveryCount) }
            if failing {
                failing = false
                logger.notice("rule evaluation works again")
            }
            return true
        } catch {
            evaluationFailed(error, rule: what)
            return false
        }
    }

    private func evaluationFailed(_ error: StoreError, rule: String) {
        metrics.evaluationFailures.increment()
        guard !failing else { return }
        failing = true
        logger.error("cannot evaluate rules, retrying at the next flush", metadata: ["rule": "\(rule)", "error": "\(error)"])
    }

    private func firingCount(_ rule: String) -> Int {
        states[rule]?.values.reduce(0) { $0 + ($1.phase == .firing ? 1 : 0) } ?? 0
    }

    /// Forgets resolved alerts older than `alerts.keep_resolved` (in memory and stored).
    private func pruneResolved(now: Int64) async {
        let before = now - keepResolved
        do {
            try await store.pruneRules(keeping: Set(positions.keys), rules: Set(rules.map(\.name)), resolvedBefore: before)
        } catch {
            logger.warning("cannot prune resolved alerts; retrying in an hour", metadata: ["error": "\(error)"])
            return
        }
        for rule in states.keys {
            states[rule] = states[rule]?.filter { !($0.value.phase == .resolved && $0.value.streak == 0 && $0.value.since < before) }
        }
    }

    /// `value` rounded down to a multiple of `width` (also below zero).
    static func floor(_ value: Int64, to width: Int64) -> Int64 {
        let remainder = value % width
        return remainder < 0 ? value - remainder - width : value - remainder
    }
}
