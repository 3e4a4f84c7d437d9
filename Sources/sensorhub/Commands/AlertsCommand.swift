import ArgumentParser
import SensorCore
import SensorStore

/// `sensorhub alerts`: alerts firing or resolved recently (CONTRACT §7), from a running
/// daemon or the database file.
struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "List alerts: which rules fire for which series, and which resolved recently.")

    enum State: String, ExpressibleByArgument, CaseIterable {
        case firing, resolved
    }

    @Option(help: "Only alerts in this state: firing or resolved.") var state: State?
    @Option(help: "Only this rule (a glob).") var rule: String?
    @Option(help: "Only these devices (a glob).") var device: String?
    @Option(help: "Only these metrics (a glob).") var metric: String?
    @Option(help: "table, json or csv.") var format: OutputFormat = .table
    @OptionGroup var source: SourceOptions

    func run() async throws {
        let records: [AlertRecord]
        if let client = source.daemonClient {
            records = try await client.alerts(rule: rule, device: device, metric: metric, state: state?.rawValue)
        } else {
            let store = try await source.openStore()
            let globs = (rule: NameGlob(rule ?? "*"), device: NameGlob(device ?? "*"), metric: NameGlob(metric ?? "*"))
            do {
                records = try await store.alerts().filter {
                    (state == nil || $0.state == state?.rawValue) && globs.rule.matches($0.rule)
                        && globs.device.matches($0.device) && globs.metric.matches($0.metric)
                }
            } catch {
                throw CommandFailure.fail(error.description)
            }
        }
        try RecordPrinter.printAlerts(records, format: format)
    }
}
