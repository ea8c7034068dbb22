// swift-tools-version: 6.1
import PackageDescription

// `FETCHQ_SANITIZE=address` or `=thread` builds fetchq's own modules, its tests and its binary with
// that sanitizer (`make sanitize`). Dependencies stay uninstrumented, so only fetchq's modules are
// rebuilt, not every package: the check fits in CI. (`swift test --sanitize=…` instruments every
// package too, at about 25 minutes per sanitizer on two cores.)
let sanitizer = Context.environment["FETCHQ_SANITIZE"].map { ["-sanitize=\($0)"] } ?? []
let instrumented: [SwiftSetting] = sanitizer.isEmpty ? [] : [.unsafeFlags(sanitizer)]
let sanitizerRuntime: [LinkerSetting] = sanitizer.isEmpty ? [] : [.unsafeFlags(sanitizer)]

let package = Package(
    name: "fetchq",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fetchq", targets: ["fetchq"])
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // The C boundary: system libraries found through pkg-config.
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),

        // Child processes on posix_spawn: the only C-facing code outside the two wrappers above.
        .target(name: "CSpawn"),
        .target(name: "Spawn", dependencies: ["CSpawn"], swiftSettings: instrumented),

        // Embeds migrations/*.sql into StoreSQLite and openapi.yaml into API at build time.
        .executableTarget(name: "EmbedMigrationsTool"),
        .plugin(
            name: "EmbedMigrations",
            capability: .buildTool(),
            dependencies: ["EmbedMigrationsTool"]
        ),

        // A generic HTTP/1.1 server on libmicrohttpd: knows requests and responses, nothing of fetchq.
        .target(
            name: "HTTPServer",
            dependencies: [
                "CMicroHTTPD",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: instrumented
        ),

        // Streaming gzip, deflate and br decoding with a cap on the decoded size: the only Swift code
        // that calls zlib or brotli (system libraries through pkg-config).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CBrotli", pkgConfig: "libbrotlidec", providers: [.apt(["libbrotli-dev"])]),
        .target(name: "ContentDecoding", dependencies: ["CZlib", "CBrotli"], swiftSettings: instrumented),
        // The brotli encoder, linked only by the tests, which build their fixtures in place.
        .systemLibrary(name: "CBrotliEnc", pkgConfig: "libbrotlienc", providers: [.apt(["libbrotli-dev"])]),

        // robots.txt (RFC 9309): the parser and the matcher, pure Swift.
        .target(name: "Robots", swiftSettings: instrumented),

        // fetchq's one JSON codec: the value type, the parser, the writer.
        .target(name: "JSON", swiftSettings: instrumented),

        // The model: the queue's protocol, its types, the API's JSON shapes and the rules both
        // storage engines share. It links neither database.
        .target(
            name: "Store",
            dependencies: [
                "JSON",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: instrumented
        ),
        // The embedded engine: one node, one SQLite file.
        .target(
            name: "StoreSQLite",
            dependencies: [
                "CSQLite",
                "JSON",
                "Store",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: instrumented,
            plugins: ["EmbedMigrations"]
        ),
        // The second storage engine, for nodes that share one queue (PostgreSQL through postgres-nio).
        .target(
            name: "StorePostgres",
            dependencies: [
                "Store", "JSON",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: instrumented,
            plugins: ["EmbedMigrations"]
        ),
        .target(
            name: "Engine",
            dependencies: [
                "ContentDecoding",
                "Robots",
                "Store",
                "Spawn",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: instrumented
        ),
        .target(
            name: "API",
            dependencies: [
                "HTTPServer",
                "JSON",
                "Store",
                "Engine",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: instrumented,
            plugins: ["EmbedMigrations"]
        ),
        .executableTarget(
            name: "fetchq",
            dependencies: [
                "API",
                "HTTPServer",
                "Engine",
                "JSON",
                "Store",
                "StoreSQLite",
                "StorePostgres",
                "Spawn",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: instrumented,
            linkerSettings: sanitizerRuntime
        ),

        // Real local servers and helpers the tests share: target servers, a client, temp databases.
        .target(
            name: "TestSupport",
            dependencies: [
                "API", "HTTPServer", "JSON", "Store", "StoreSQLite", "StorePostgres", "Spawn", "CZlib", "CBrotliEnc",
                "ContentDecoding",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: instrumented
        ),
        .testTarget(
            name: "ContentDecodingTests", dependencies: ["ContentDecoding", "CZlib", "TestSupport"],
            swiftSettings: instrumented, linkerSettings: sanitizerRuntime),
        .testTarget(
            name: "RobotsTests", dependencies: ["Robots"], swiftSettings: instrumented,
            linkerSettings: sanitizerRuntime),
        .testTarget(
            name: "SpawnTests", dependencies: ["Spawn", "TestSupport"], swiftSettings: instrumented,
            linkerSettings: sanitizerRuntime),
        .testTarget(
            name: "StoreTests", dependencies: ["JSON", "Store", "StoreSQLite", "StorePostgres", "TestSupport"],
            swiftSettings: instrumented,
            linkerSettings: sanitizerRuntime),
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "Engine", "Store", "StoreSQLite", "TestSupport", "fetchq",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: instrumented,
            linkerSettings: sanitizerRuntime
        ),
        .testTarget(
            name: "APITests",
            dependencies: [
                "API", "Engine", "HTTPServer", "JSON", "Store", "StoreSQLite", "TestSupport",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: instrumented,
            linkerSettings: sanitizerRuntime),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "fetchq", "API", "JSON", "Store", "StoreSQLite", "Spawn", "TestSupport",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: instrumented, linkerSettings: sanitizerRuntime),
        // The chaos soak (issue #16): short in `make test`, 50,000 tasks in `make soak`.
        .testTarget(
            name: "SoakTests", dependencies: ["fetchq", "JSON", "Spawn", "TestSupport"],
            swiftSettings: instrumented, linkerSettings: sanitizerRuntime),
    ]
)
