// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "SensorHub",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sensorhub", targets: ["sensorhub"]),
        // Libraries are products so that Benchmarks/ (a separate package) can use them.
        .library(name: "SensorCore", targets: ["SensorCore"]),
        .library(name: "SensorStore", targets: ["SensorStore"]),
        .library(name: "SensorPipeline", targets: ["SensorPipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: ["YAML"]),
        // Same range as swift-configuration's own YAML trait: SensorConfig walks the parsed
        // config file with it to reject unknown keys (swift-configuration cannot).
        .package(url: "https://github.com/jpsim/Yams.git", "5.4.0"..<"7.0.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Pure values and math: readings, resolutions, statistics, payload decoders. No I/O.
        .target(name: "SensorCore", swiftSettings: strict),
        // SQL migrations live in schema/ and are compiled into the binary.
        .target(
            name: "SensorSchema",
            path: "schema",
            exclude: ["README.md", "openapi.yaml"],
            resources: [.embedInCode("migrations"), .embedInCode("postgres")],
            swiftSettings: strict
        ),
        .target(
            name: "SensorStore",
            dependencies: [
                "SensorCore", "SensorSchema",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            swiftSettings: strict
        ),
        // The same aggregates in PostgreSQL (postgres-nio), for several daemons sharing one
        // database: chunks merged under row locks inside each flush's transaction.
        .target(
            name: "PostgresStore",
            dependencies: [
                "SensorCore", "SensorStore", "SensorSchema",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // glibc's malloc.h: the flusher hands freed memory back to the system.
        .systemLibrary(name: "CMalloc"),
        // CRC-32C with the CPU's instruction, for the journal (SSE 4.2; elsewhere a table in Swift).
        .target(name: "CCRC32C"),
        .target(
            name: "SensorPipeline",
            dependencies: [
                "CCRC32C", "CMalloc", "SensorCore", "SensorStore",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // libmosquitto through pkg-config; MQTTIngest is the only module that imports it.
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev", "libssl-dev"])]),
        .target(
            name: "MQTTIngest",
            dependencies: [
                "CMosquitto", "SensorCore", "SensorPipeline",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // zlib through pkg-config: gzip files are inflated while they stream in.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Reading files of readings for `sensorhub import`: inputs (plain, gzip, stdin),
        // record framing per format, CSV, chunks of readings and the position after each
        // (what a resumed import starts from). No network, no store.
        .target(
            name: "SensorImport",
            dependencies: ["CZlib", "SensorCore"],
            swiftSettings: strict
        ),
        // Rules, alerts and forwarding: judges closed windows after each flush, and delivers
        // what they queued (webhooks through async-http-client, MQTT through libmosquitto).
        .target(
            name: "SensorRules",
            dependencies: [
                "SensorCore", "SensorStore", "SensorPipeline", "MQTTIngest",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "HTTPAPI",
            dependencies: [
                "SensorCore", "SensorPipeline", "SensorStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // The dashboard page is compiled into the binary: the daemon serves it offline.
            resources: [.embedInCode("Dashboard")],
            swiftSettings: strict
        ),
        // Settings from the YAML file, SENSORHUB_* variables and flags, validated.
        .target(
            name: "SensorConfig",
            dependencies: [
                "SensorCore",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "sensorhub",
            dependencies: [
                "SensorCore", "SensorPipeline", "SensorStore", "PostgresStore", "HTTPAPI", "MQTTIngest", "SensorConfig", "SensorImport", "SensorRules",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "SensorCoreTests", dependencies: ["SensorCore"], swiftSettings: strict),
        .testTarget(name: "SensorStoreTests", dependencies: ["SensorStore", "PostgresStore", "SensorCore", "SensorSchema", "TestProcesses"], swiftSettings: strict),
        .testTarget(name: "SensorRulesTests", dependencies: ["SensorRules", "SensorStore", "SensorPipeline", "SensorCore"], swiftSettings: strict),
        .testTarget(name: "SensorPipelineTests", dependencies: ["SensorPipeline", "SensorStore", "SensorCore"], swiftSettings: strict),
        .testTarget(name: "SensorConfigTests", dependencies: ["SensorConfig", "SensorCore"], swiftSettings: strict),
        .testTarget(name: "SensorImportTests", dependencies: ["SensorImport", "SensorCore"], swiftSettings: strict),
        .testTarget(name: "MQTTIngestTests", dependencies: ["MQTTIngest", "SensorCore", "SensorPipeline"], swiftSettings: strict),
        // Helper processes the tests start themselves: free ports, posix_spawn without the
        // test runner's descriptors, a throwaway PostgreSQL server.
        .target(name: "TestProcesses", path: "Tests/TestProcesses", swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["SensorCore", "TestProcesses", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
