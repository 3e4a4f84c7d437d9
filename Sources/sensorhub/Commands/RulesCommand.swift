import ArgumentParser
import SensorConfig
import SensorCore

/// `sensorhub rules check --config FILE`: loads the configuration exactly as `serve`
/// would, rules and forwarding included, and says what it found or what is wrong,
/// without starting anything.
struct RulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check alert rules and forwarding.",
        subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Validate a configuration file's settings, rules and forwarding without starting the daemon.")

        @Option(help: "YAML configuration file.") var config: String

        func run() async throws {
            let settings: Settings
            do {
                settings = try Settings.load(file: config, flags: [:])
            } catch {
                throw CommandFailure.usage("configuration: \(error.description)")
            }
            var lines = ["\(config): ok, \(settings.rules.count) rule(s)"]
            for rule in settings.rules {
                lines.append("  rule \(rule.name): \(Self.describe(rule))")
            }
            if let forward = settings.forward {
                lines.append("  forward: \(forward.resolutions.map(\.description).joined(separator: ",")) buckets to \(forward.topic)")
            }
            print(lines.joined(separator: "\n"))
        }

        static func describe(_ rule: AlertRule) -> String {
            let series = "\(rule.device)/\(rule.metric)"
            let condition = switch rule.condition {
            case .threshold(let threshold):
                "\(threshold.statistic.rawValue) \(threshold.comparison.rawValue) \(threshold.value) over \(threshold.resolution) windows, \(threshold.windows) in a row"
            case .absent(let duration):
                "nothing for \(duration.shortText)"
            }
            let actions = rule.actions.map { action in
                switch action {
                case .webhook(let url): "webhook \(url)"
                case .mqtt(let topic): "mqtt \(topic)"
                }
            }
            return "\(series): \(condition)" + (actions.isEmpty ? "" : "; " + actions.joined(separator: ", "))
        }
    }
}
