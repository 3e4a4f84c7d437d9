// swift-tools-version: 6.2
// SensorHub benchmarks: a package of its own, so that the root package (and CI) never
// resolves nor compiles the benchmark framework. Run from this folder; see README.md.
import PackageDescription

let package = Package(
    name: "SensorHubBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "SensorHub", path: ".."),
        // Traits: benchmark 1.38.1 enables "MallocInterposer" and "RuntimeInterposer"
        // by default. On Linux with Swift 6.3 the latter pulls in
        // ordo-one/swift-runtime-interposer, which the offline mirror does not have (and which
        // only adds ARC retain/release counts); naming the traits explicitly leaves it out of
        // resolution. "MallocInterposer" (ordo-one/malloc-interposer, mirrored) stays for
        // the malloc counts.
        .package(url: "https://github.com/ordo-one/benchmark.git", exact: "1.38.1",
                 traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        // Only to ask SQLite how many pages a flush wrote (a second connection to the file).
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
    ],
    targets: [
        .executableTarget(
            name: "SensorHubBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SensorCore", package: "SensorHub"),
                .product(name: "SensorStore", package: "SensorHub"),
                .product(name: "SensorPipeline", package: "SensorHub"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Benchmarks/SensorHubBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // One aggregate query of a database timed in one process, to compare builds run
        // alternately (QueryTimer/main.swift).
        .executableTarget(
            name: "QueryTimer",
            dependencies: [
                .product(name: "SensorCore", package: "SensorHub"),
                .product(name: "SensorStore", package: "SensorHub"),
            ],
            path: "QueryTimer"
        ),
    ],
    swiftLanguageModes: [.v6]
)
