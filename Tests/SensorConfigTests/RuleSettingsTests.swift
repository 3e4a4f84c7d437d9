import Foundation
import SensorCore
@testable import SensorConfig
import Testing

/// CONTRACT §7 settings: `rules:`, `forward:` and `alerts.*`, checked at load with
/// messages naming the rule and the key.
@Suite struct RuleSettingsTests {
    private func load(_ yaml: String, environment: [String: String] = [:]) throws -> Settings {
        let file = try TemporaryConfigFile(yaml)
        return try Settings.load(file: file.path, environment: environment, flags: [:])
    }

    /// The message, with the temporary file's path replaced by `FILE`.
    private func problem(_ yaml: String) -> String? {
        do {
            let file = try TemporaryConfigFile(yaml)
            do {
                _ = try Settings.load(file: file.path, environment: [:], flags: [:])
                return nil
            } catch {
                return error.description.replacingOccurrences(of: file.path, with: "FILE")
            }
        } catch {
            return "\(error)"
        }
    }

    @Test func rulesForwardAndAlertSettingsLoad() throws {
        let settings = try load("""
            store:
              resolutions: [10s, 1m]
            alerts:
              lateness: 2s
              retry_max: 30s
            rules:
              - name: greenhouse-hot
                device: "gh-*"
                metric: temp
                resolution: 1m
                stat: p95
                op: ">="
                threshold: 30.5
                for: 3
                webhook: "http://alerts.local:9000/hook"
                mqtt: "alerts/{rule}/{device}"
              - {name: silent, metric: temp, absent: 5m}
              - {name: busy, stat: count, op: "<", threshold: 1}
            forward:
              topic: "aggregates/{device}/{metric}/{resolution}"
              resolutions: [1m, 10s]
            """)
        let minute = Resolution(seconds: 60)!, tenSeconds = Resolution(seconds: 10)!
        #expect(settings.rules == [
            AlertRule(
                name: "greenhouse-hot", device: NameGlob("gh-*"), metric: NameGlob("temp"),
                condition: .threshold(.init(resolution: minute, statistic: .p95, comparison: .greaterOrEqual, value: 30.5, windows: 3)),
                actions: [.webhook("http://alerts.local:9000/hook"), .mqtt(try TopicTemplate("alerts/{rule}/{device}"))]),
            AlertRule(name: "silent", metric: NameGlob("temp"), condition: .absent(.seconds(300))),
            AlertRule(name: "busy", condition: .threshold(.init(resolution: tenSeconds, statistic: .count, comparison: .less, value: 1))),
        ])
        #expect(settings.forward == ForwardRule(topic: try TopicTemplate("aggregates/{device}/{metric}/{resolution}"), resolutions: [tenSeconds, minute]))
        #expect(settings.alerts.lateness == .seconds(2))
        #expect(settings.alerts.retryMax == .seconds(30))
        #expect(settings.alerts.retryMin == .seconds(1))
        #expect(settings.redactedDescription.hasSuffix("rules=greenhouse-hot,silent,busy forward=aggregates/{device}/{metric}/{resolution}:10s,1m"))
    }

    @Test func forwardDefaultsToOneMinuteBuckets() throws {
        let settings = try load("forward: {topic: \"agg/{device}\"}\n")
        #expect(settings.forward?.resolutions == [Resolution(seconds: 60)!])
    }

    @Test func mistakesAreNamedWithTheRuleAndTheKey() {
        #expect(problem("rules:\n  - {name: hot, stat: mean, op: \">\", threshold: 30, resolution: 30s}\n")
            == "FILE: rules[hot].resolution: \"30s\" is not one of store.resolutions (10s,1m,1h) (line 2)")
        #expect(problem("rules:\n  - {name: hot, stat: median, op: \">\", threshold: 30}\n")
            == "FILE: rules[hot].stat: \"median\" is not a statistic: count, sum, min, max, mean, stddev, p50, p90, p95, p99 (line 2)")
        #expect(problem("rules:\n  - {name: hot, stat: mean, op: \"=\", threshold: 30}\n")
            == "FILE: rules[hot].op: \"=\" is not a comparison: one of > >= < <= (line 2)")
        #expect(problem("rules:\n  - {name: hot, stat: mean, op: \">\", threshold: warm}\n")
            == "FILE: rules[hot].threshold: \"warm\" is not a finite number (line 2)")
        #expect(problem("rules:\n  - {name: hot, stat: mean, op: \">\", threshold: 1, for: 0}\n")
            == "FILE: rules[hot].for: \"0\" is not a valid number of windows: expected a whole number from 1 to 10000 (line 2)")
        #expect(problem("rules:\n  - {name: hot, stat: mean, op: \">\"}\n") == "FILE: rules[hot]: needs threshold, a number (line 2)")
        #expect(problem("rules:\n  - {name: quiet, absent: 5m, stat: mean}\n")
            == "FILE: rules[quiet].stat: an absent rule takes no stat: it fires on silence, not on a statistic (line 2)")
        #expect(problem("rules:\n  - {name: quiet, absent: soon}\n")?.hasPrefix("FILE: rules[quiet].absent: \"soon\" is not a duration") == true)
        #expect(problem("rules:\n  - {name: hot, absent: 5m, webhook: \"ftp://x\"}\n")
            == "FILE: rules[hot].webhook: \"ftp://x\" is not an http:// or https:// URL (line 2)")
        #expect(problem("rules:\n  - {name: hot, absent: 5m, mqtt: \"alerts/#\"}\n")
            == "FILE: rules[hot].mqtt: \"alerts/#\" holds a wildcard (+ or #) or NUL; a published topic names one topic (line 2)")
        #expect(problem("rules:\n  - {name: hot, absent: 5m, sevrity: high}\n")?
            .hasPrefix("FILE: rules[0]: unknown field \"sevrity\"; fields of a rule are name, device") == true)
        #expect(problem("rules:\n  - {absent: 5m}\n") == "FILE: rules[0]: has no name (line 2)")
        #expect(problem("rules:\n  - {name: a, absent: 5m}\n  - {name: a, absent: 1m}\n") == "FILE: rules[a]: two rules are named \"a\" (line 3)")
        #expect(problem("rules: {name: a}\n")?.hasPrefix("FILE: rules: must be a list of rules") == true)
        #expect(problem("forward: {resolutions: [1m]}\n")?.hasPrefix("FILE: forward: needs a topic") == true)
        #expect(problem("forward: {topic: \"a/{rule}\"}\n")?.hasPrefix("FILE: forward.topic: \"a/{rule}\" uses {rule}") == true)
        #expect(problem("forward: {topic: \"a\", resolutions: [5m]}\n") == "FILE: forward.resolutions: \"5m\" is not one of store.resolutions (10s,1m,1h) (line 1)")
        #expect(problem("alerts:\n  retry_min: 5s\n  retry_max: 1s\n") == "FILE: alerts.retry_max: must be at least alerts.retry_min (5s)")
        #expect(problem("mqtt: {enabled: false}\nforward: {topic: \"a/{device}\"}\n") == "FILE: forward: publishes over MQTT, which mqtt.enabled=false turns off")
        #expect(problem("mqtt: {enabled: false}\nrules:\n  - {name: q, absent: 1m, mqtt: \"a/{rule}\"}\n")
            == "FILE: rules[q].mqtt: publishes over MQTT, which mqtt.enabled=false turns off")
    }
}
