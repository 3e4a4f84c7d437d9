import ArgumentParser

/// The `sensorhub` executable: the daemon and the operator's commands.
@main
struct SensorHubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sensorhub",
        abstract: "IoT sensor aggregation daemon: ingest readings, keep rolling statistics, query them.",
        subcommands: [ServeCommand.self, QueryCommand.self, DevicesCommand.self, TailCommand.self, SimulateCommand.self, ImportCommand.self,
                      AlertsCommand.self, RulesCommand.self])
}
