import ArgumentParser
import NIOCore
import NIOPosix

/// The `sensorhub` executable: the daemon and the operator's commands.
@main
struct SensorHubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sensorhub",
        abstract: "IoT sensor aggregation daemon: ingest readings, keep rolling statistics, query them.",
        subcommands: [ServeCommand.self, QueryCommand.self, DevicesCommand.self, TailCommand.self, SimulateCommand.self, ImportCommand.self,
                      AlertsCommand.self, RulesCommand.self])

    /// Runs Swift concurrency's tasks on NIO's event loops (the singleton group Hummingbird
    /// and the HTTP client use) instead of a pool of their own, before any task starts.
    ///
    /// Every HTTP request hopped from the loop that read it to a task on the other pool and
    /// back to write the answer: on two cores, four busy threads and a context switch each
    /// way. Without them, W3 (HTTP batches) took 21% less server CPU and ran 29% faster
    /// (`run.py --workloads w3,w2 --reps 3`, Benchmarks/README.md). Blocking work stays
    /// off these threads as before: SQLite on GRDB's queues, libmosquitto, journal syncs and
    /// the shutdown watchdog on threads of their own. When NIO cannot install itself (a
    /// Swift runtime it does not know), tasks keep the default pool.
    static func main() async {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await Self.main(nil)
    }
}
