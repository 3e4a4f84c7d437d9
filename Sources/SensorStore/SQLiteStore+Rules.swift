internal import GRDB
public import SensorCore

/// Rules, alerts and forwarding (schema v7): the state a rule evaluation commits and the
/// outbox its deliveries wait in.
extension SQLiteStore {
    /// The committed positions and states.
    public func ruleSnapshot() async throws(StoreError) -> RuleSnapshot {
        do {
            return try await pool.read { db in
                var positions: [String: Int64] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT name, until_us FROM rule_positions") {
                    positions[row[0]] = row[1]
                }
                var states: [String: [SeriesKey: AlertState]] = [:]
                let cursor = try Row.fetchCursor(db, sql: """
                    SELECT rule, device, metric, phase, streak, streak_start_us, last_window_end_us, since_us, value FROM alert_states
                    """)
                while let row = try cursor.next() {
                    let state = AlertState(
                        phase: AlertState.Phase(rawValue: row[3]) ?? .quiet, streak: row[4], streakStart: row[5],
                        lastWindowEnd: row[6], since: row[7], value: row[8])
                    states[row[0], default: [:]][SeriesKey(device: row[1], metric: row[2])] = state
                }
                return RuleSnapshot(positions: positions, states: states)
            }
        } catch {
            throw StoreError.wrapping(error, operation: "reading rule states")
        }
    }

    /// Commits one evaluation in one transaction, keeping at most `maxQueued` deliveries
    /// (the oldest beyond it are deleted); returns the queued deliveries with their ids and
    /// how many old ones were dropped.
    public func commitRules(_ commit: RuleCommit, maxQueued: Int) async throws(StoreError) -> (queued: [Delivery], dropped: Int) {
        try requireWritable()
        guard !commit.isEmpty else { return ([], 0) }
        do {
            let outcome: (queued: [Delivery], dropped: Int) = try await pool.write { db in
                let upsert = try db.cachedStatement(sql: """
                    INSERT INTO alert_states (rule, device, metric, phase, streak, streak_start_us, last_window_end_us, since_us, value)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (rule, device, metric) DO UPDATE SET phase = excluded.phase, streak = excluded.streak,
                      streak_start_us = excluded.streak_start_us, last_window_end_us = excluded.last_window_end_us,
                      since_us = excluded.since_us, value = excluded.value
                    """)
                let delete = try db.cachedStatement(sql: "DELETE FROM alert_states WHERE rule = ? AND device = ? AND metric = ?")
                for change in commit.states {
                    let state = change.state
                    if state.isWorthKeeping {
                        try upsert.execute(arguments: [
                            change.rule, change.series.device, change.series.metric, state.phase.rawValue, state.streak,
                            state.streakStart, state.lastWindowEnd, state.since, state.value,
                        ])
                    } else {
                        try delete.execute(arguments: [change.rule, change.series.device, change.series.metric])
                    }
                }
                let position = try db.cachedStatement(sql: """
                    INSERT INTO rule_positions (name, until_us) VALUES (?, ?)
                    ON CONFLICT (name) DO UPDATE SET until_us = excluded.until_us
                    """)
                for (name, until) in commit.positions {
                    try position.execute(arguments: [name, until])
                }
                let insert = try db.cachedStatement(sql: "INSERT INTO outbox (channel, rule, topic, body, created_us) VALUES (?, ?, ?, ?, ?)")
                let now = WallClock.microseconds()
                var queued: [Delivery] = []
                queued.reserveCapacity(commit.deliveries.count)
                for var delivery in commit.deliveries {
                    try insert.execute(arguments: [delivery.channel, delivery.rule, delivery.topic, delivery.body, now])
                    delivery.id = db.lastInsertedRowID
                    queued.append(delivery)
                }
                var dropped = 0
                let count = outboxCount.load(ordering: .relaxed) + queued.count
                if count > maxQueued {
                    try db.execute(sql: "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT ?)", arguments: [count - maxQueued])
                    dropped = db.changesCount
                }
                return (queued, dropped)
            }
            // Only now, after the commit.
            outboxCount.add(outcome.queued.count - outcome.dropped, ordering: .relaxed)
            return outcome
        } catch {
            throw StoreError.wrapping(error, operation: "committing rule states")
        }
    }

    /// Deletes the states and positions of rules no longer configured (`keep` holds the
    /// position names in use), and resolved alerts that resolved before `resolvedBefore`.
    public func pruneRules(keeping keep: Set<String>, rules: Set<String>, resolvedBefore: Int64) async throws(StoreError) {
        try requireWritable()
        do {
            try await pool.write { db in
                for name in try String.fetchAll(db, sql: "SELECT name FROM rule_positions") where !keep.contains(name) {
                    try db.execute(sql: "DELETE FROM rule_positions WHERE name = ?", arguments: [name])
                }
                for rule in try String.fetchAll(db, sql: "SELECT DISTINCT rule FROM alert_states") where !rules.contains(rule) {
                    try db.execute(sql: "DELETE FROM alert_states WHERE rule = ?", arguments: [rule])
                }
                try db.execute(sql: "DELETE FROM alert_states WHERE phase = 'resolved' AND streak = 0 AND since_us < ?", arguments: [resolvedBefore])
            }
        } catch {
            throw StoreError.wrapping(error, operation: "pruning rule states")
        }
    }

    /// Alerts that fired at least once (firing or resolved), ordered by rule, device, metric.
    public func alerts() async throws(StoreError) -> [AlertRecord] {
        do {
            return try await pool.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT rule, device, metric, phase, since_us, value FROM alert_states
                    WHERE phase IN ('firing', 'resolved') ORDER BY rule, device, metric
                    """).map { row in
                    AlertRecord(
                        rule: row[0], series: SeriesKey(device: row[1], metric: row[2]),
                        state: AlertState(phase: AlertState.Phase(rawValue: row[3]) ?? .resolved, since: row[4], value: row[5]))
                }
            }
        } catch {
            throw StoreError.wrapping(error, operation: "listing alerts")
        }
    }

    /// The newest event time (µs) of every series matching the globs.
    public func lastSeen(deviceGlob: String, metricGlob: String) async throws(StoreError) -> [(series: SeriesKey, lastSeen: Int64)] {
        do {
            return try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT device, metric, last_seen_us FROM series WHERE device GLOB ? AND metric GLOB ?",
                                 arguments: [deviceGlob, metricGlob])
                    .map { (SeriesKey(device: $0[0], metric: $0[1]), $0[2]) }
            }
        } catch {
            throw StoreError.wrapping(error, operation: "reading last-seen times")
        }
    }

    /// Deliveries waiting in `outbox`, all channels.
    public var queuedDeliveryCount: Int { outboxCount.load(ordering: .relaxed) }

    /// The channels with queued deliveries.
    public func deliveryChannels() async throws(StoreError) -> [String] {
        do {
            return try await pool.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT channel FROM outbox") }
        } catch {
            throw StoreError.wrapping(error, operation: "reading the outbox")
        }
    }

    /// Up to `limit` queued deliveries of `channel` after id `after`, oldest first.
    public func queuedDeliveries(channel: String, after: Int64, limit: Int) async throws(StoreError) -> [Delivery] {
        do {
            return try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT id, rule, topic, body FROM outbox WHERE channel = ? AND id > ? ORDER BY id LIMIT ?",
                                 arguments: [channel, after, limit])
                    .map { Delivery(channel: channel, rule: $0[1], topic: $0[2], body: $0[3], id: $0[0]) }
            }
        } catch {
            throw StoreError.wrapping(error, operation: "reading the outbox")
        }
    }

    /// Forgets deliveries their targets acknowledged.
    public func deleteDeliveries(_ ids: [Int64]) async throws(StoreError) {
        try requireWritable()
        guard !ids.isEmpty else { return }
        do {
            let deleted = try await pool.write { db in
                let delete = try db.cachedStatement(sql: "DELETE FROM outbox WHERE id = ?")
                var deleted = 0
                for id in ids {
                    try delete.execute(arguments: [id])
                    deleted += db.changesCount
                }
                return deleted
            }
            outboxCount.subtract(deleted, ordering: .relaxed)
        } catch {
            throw StoreError.wrapping(error, operation: "deleting delivered messages")
        }
    }
}
