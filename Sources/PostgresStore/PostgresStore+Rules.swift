internal import PostgresNIO
public import SensorCore
public import SensorStore

/// Rules, alerts and forwarding: the same tables as SQLite's schema v7.
extension PostgresStore {
    public func ruleSnapshot() async throws(StoreError) -> RuleSnapshot {
        do {
            var positions: [String: Int64] = [:]
            for try await (name, until) in try await client.query("SELECT name, until_us FROM rule_positions", logger: logger).decode((String, Int64).self) {
                positions[name] = until
            }
            var states: [String: [SeriesKey: AlertState]] = [:]
            let rows = try await client.query("""
                SELECT rule, device, metric, phase, streak, streak_start_us, last_window_end_us, since_us, value FROM alert_states
                """, logger: logger)
            for try await (rule, device, metric, phase, streak, streakStart, lastWindowEnd, since, value)
                in rows.decode((String, String, String, String, Int64, Int64, Int64?, Int64, Double?).self) {
                states[rule, default: [:]][SeriesKey(device: device, metric: metric)] = AlertState(
                    phase: AlertState.Phase(rawValue: phase) ?? .quiet, streak: Int(streak), streakStart: streakStart,
                    lastWindowEnd: lastWindowEnd, since: since, value: value)
            }
            return RuleSnapshot(positions: positions, states: states)
        } catch {
            throw StoreError.postgres(error, operation: "reading rule states")
        }
    }

    public func commitRules(_ commit: RuleCommit, maxQueued: Int) async throws(StoreError) -> (queued: [Delivery], dropped: Int) {
        try requireWritable()
        guard !commit.isEmpty else { return ([], 0) }
        do {
            let outcome: (queued: [Delivery], dropped: Int) = try await transaction { connection in
                for change in commit.states {
                    let state = change.state
                    if state.isWorthKeeping {
                        try await connection.query("""
                            INSERT INTO alert_states (rule, device, metric, phase, streak, streak_start_us, last_window_end_us, since_us, value)
                            VALUES (\(change.rule), \(change.series.device), \(change.series.metric), \(state.phase.rawValue), \(Int64(state.streak)),
                                    \(state.streakStart), \(state.lastWindowEnd), \(state.since), \(state.value))
                            ON CONFLICT (rule, device, metric) DO UPDATE SET phase = excluded.phase, streak = excluded.streak,
                              streak_start_us = excluded.streak_start_us, last_window_end_us = excluded.last_window_end_us,
                              since_us = excluded.since_us, value = excluded.value
                            """, logger: self.logger)
                    } else {
                        try await connection.query("""
                            DELETE FROM alert_states WHERE rule = \(change.rule) AND device = \(change.series.device) AND metric = \(change.series.metric)
                            """, logger: self.logger)
                    }
                }
                for (name, until) in commit.positions {
                    try await connection.query("""
                        INSERT INTO rule_positions (name, until_us) VALUES (\(name), \(until))
                        ON CONFLICT (name) DO UPDATE SET until_us = excluded.until_us
                        """, logger: self.logger)
                }
                let now = WallClock.microseconds()
                var queued: [Delivery] = []
                queued.reserveCapacity(commit.deliveries.count)
                for var delivery in commit.deliveries {
                    delivery.id = try await connection.query("""
                        INSERT INTO outbox (channel, rule, topic, body, created_us)
                        VALUES (\(delivery.channel), \(delivery.rule), \(delivery.topic), \(delivery.body), \(now)) RETURNING id
                        """, logger: self.logger).decodeFirst(Int64.self)
                    queued.append(delivery)
                }
                var dropped = 0
                let count = self.outboxCount.load(ordering: .relaxed) + queued.count
                if count > maxQueued {
                    let excess = Int64(count - maxQueued)
                    for try await _ in try await connection.query("""
                        DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT \(excess)) RETURNING 1
                        """, logger: self.logger) {
                        dropped += 1
                    }
                }
                return (queued, dropped)
            }
            outboxCount.add(outcome.queued.count - outcome.dropped, ordering: .relaxed)
            return outcome
        } catch {
            throw StoreError.postgres(error, operation: "committing rule states")
        }
    }

    public func pruneRules(keeping keep: Set<String>, rules: Set<String>, resolvedBefore: Int64) async throws(StoreError) {
        try requireWritable()
        do {
            try await transaction { connection in
                let keptNames = keep.sorted(), keptRules = rules.sorted()
                try await connection.query("DELETE FROM rule_positions WHERE NOT (name = ANY(\(keptNames)::text[]))", logger: self.logger)
                try await connection.query("DELETE FROM alert_states WHERE NOT (rule = ANY(\(keptRules)::text[]))", logger: self.logger)
                try await connection.query("""
                    DELETE FROM alert_states WHERE phase = 'resolved' AND streak = 0 AND since_us < \(resolvedBefore)
                    """, logger: self.logger)
            }
        } catch {
            throw StoreError.postgres(error, operation: "pruning rule states")
        }
    }

    /// Alerts that fired at least once (firing or resolved), ordered by rule, device, metric (bytewise).
    public func alerts() async throws(StoreError) -> [AlertRecord] {
        do {
            let rows = try await client.query("""
                SELECT rule, device, metric, phase, since_us, value FROM alert_states
                WHERE phase IN ('firing', 'resolved') ORDER BY rule COLLATE "C", device COLLATE "C", metric COLLATE "C"
                """, logger: logger)
            var alerts: [AlertRecord] = []
            for try await (rule, device, metric, phase, since, value) in rows.decode((String, String, String, String, Int64, Double?).self) {
                alerts.append(AlertRecord(
                    rule: rule, series: SeriesKey(device: device, metric: metric),
                    state: AlertState(phase: AlertState.Phase(rawValue: phase) ?? .resolved, since: since, value: value)))
            }
            return alerts
        } catch {
            throw StoreError.postgres(error, operation: "reading alerts")
        }
    }

    public func lastSeen(deviceGlob: String, metricGlob: String) async throws(StoreError) -> [(series: SeriesKey, lastSeen: Int64)] {
        do {
            let rows = try await client.query("""
                SELECT device, metric, last_seen_us FROM series
                WHERE device ~ \(GlobPattern.regex(deviceGlob)) AND metric ~ \(GlobPattern.regex(metricGlob))
                """, logger: logger)
            var seen: [(series: SeriesKey, lastSeen: Int64)] = []
            for try await (device, metric, lastSeen) in rows.decode((String, String, Int64).self) {
                seen.append((SeriesKey(device: device, metric: metric), lastSeen))
            }
            return seen
        } catch {
            throw StoreError.postgres(error, operation: "reading last-seen times")
        }
    }

    public var queuedDeliveryCount: Int { outboxCount.load(ordering: .relaxed) }

    public func deliveryChannels() async throws(StoreError) -> [String] {
        do {
            var channels: [String] = []
            for try await channel in try await client.query("SELECT DISTINCT channel FROM outbox", logger: logger).decode(String.self) {
                channels.append(channel)
            }
            return channels
        } catch {
            throw StoreError.postgres(error, operation: "reading the outbox")
        }
    }

    public func queuedDeliveries(channel: String, after: Int64, limit: Int) async throws(StoreError) -> [Delivery] {
        do {
            let rows = try await client.query("""
                SELECT id, rule, topic, body FROM outbox WHERE channel = \(channel) AND id > \(after) ORDER BY id LIMIT \(Int64(limit))
                """, logger: logger)
            var deliveries: [Delivery] = []
            for try await (id, rule, topic, body) in rows.decode((Int64, String, String?, String).self) {
                deliveries.append(Delivery(channel: channel, rule: rule, topic: topic, body: body, id: id))
            }
            return deliveries
        } catch {
            throw StoreError.postgres(error, operation: "reading the outbox")
        }
    }

    public func deleteDeliveries(_ ids: [Int64]) async throws(StoreError) {
        try requireWritable()
        guard !ids.isEmpty else { return }
        do {
            var deleted = 0
            for try await _ in try await client.query("DELETE FROM outbox WHERE id = ANY(\(ids)::bigint[]) RETURNING 1", logger: logger) {
                deleted += 1
            }
            outboxCount.subtract(deleted, ordering: .relaxed)
        } catch {
            throw StoreError.postgres(error, operation: "deleting delivered messages")
        }
    }
}
