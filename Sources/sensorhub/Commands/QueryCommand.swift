import ArgumentParser
import SensorCore
import SensorStore

/// `sensorhub query`: aggregates of matching series over tumbling or sliding windows.
struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Print aggregates of the series matching --device and --metric.")

    @Option(help: "Device name or glob.") var device: String = "*"
    @Option(help: "Metric name or glob.") var metric: String = "*"
    @Option(help: "Window length: a multiple of a stored resolution (10s, 1m, 5m, 1h, 1d).") var window: String
    @Option(help: "Step of sliding windows (default: the window, i.e. tumbling).") var step: String?
    @Option(help: "Start, RFC 3339 or Unix seconds (windows lying wholly inside [from, to) are printed).") var from: String?
    @Option(help: "End, RFC 3339 or Unix seconds (exclusive).") var to: String?
    @Option(help: "table, json or csv.") var format: OutputFormat = .table
    @OptionGroup var source: SourceOptions

    func run() async throws {
        let query: AggregateQuery
        do {
            query = try AggregateQuery(device: device, metric: metric, window: window, step: step, from: from, to: to)
        } catch {
            throw CommandFailure.usage(error.message)
        }
        let records: [AggregateRecord]
        if let client = source.daemonClient {
            records = try await client.aggregates(device: device, metric: metric, window: window, step: step, from: from, to: to)
        } else {
            let store = try await source.openStore()
            do {
                records = try await store.aggregates(query).map(\.record)
            } catch .tooManyRows(let possible, let limit) {
                // Too broad a question, like an unparsable one: narrowing it is the fix.
                throw CommandFailure.usage(StoreError.tooManyRows(possible: possible, limit: limit).description)
            } catch {
                throw CommandFailure.fail(error.description)
            }
        }
        try RecordPrinter.printAggregates(records, format: format)
    }
}
