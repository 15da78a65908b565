// swift-tools-version: 6.1
// Layer map and dependency direction: ../shared/DESIGN.md (one target per layer, dependencies flow down).
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "ShardVault",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "shardvault", targets: ["shardvault"]),
        .executable(name: "shardvault-bench", targets: ["shardvault-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
        // The S3 door's HTTP server; swift-configuration support is not needed.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // Already Hummingbird's; named so the S3 door can be shut down by its host (S3Server.shutdown).
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // System libraries: module map + shim header each.
        .systemLibrary(name: "CFuse3", path: "Sources/CFuse3", pkgConfig: "fuse3",
                       providers: [.apt(["libfuse3-dev"])]),
        .systemLibrary(name: "CSodium", path: "Sources/CSodium", pkgConfig: "libsodium",
                       providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CLibCrypto", path: "Sources/CLibCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CISAL", path: "Sources/CISAL", pkgConfig: "libisal",
                       providers: [.apt(["libisal-dev"])]),
        .systemLibrary(name: "CXXHash", path: "Sources/CXXHash", pkgConfig: "libxxhash",
                       providers: [.apt(["libxxhash-dev"])]),

        .target(name: "CLinuxShims", path: "Sources/CLinuxShims"),
        .target(name: "CFuseRing", path: "Sources/CFuseRing"),

        // Layers, top to bottom.
        .target(name: "Buffers", swiftSettings: strict),
        .target(name: "Erasure", dependencies: ["CISAL", "CXXHash", "Buffers"], swiftSettings: strict),
        .target(name: "VolumePool", dependencies: ["Erasure", "Buffers", "CLinuxShims"], swiftSettings: strict),
        .target(name: "VaultCrypto", dependencies: ["CSodium", "CLibCrypto", "Buffers"], swiftSettings: strict),
        .target(name: "Vault", dependencies: ["VolumePool", "VaultCrypto", "Buffers", "CLinuxShims"], swiftSettings: strict),
        .target(name: "FuseDriver", dependencies: ["CFuse3", "CFuseRing", "CLinuxShims", "Vault", "VaultCrypto", "Buffers"], swiftSettings: strict),
        .target(name: "S3Server", dependencies: ["Vault", "VaultCrypto", "CLibCrypto", "CISAL",
                                                 .product(name: "Hummingbird", package: "hummingbird"),
                                                 .product(name: "HummingbirdCore", package: "hummingbird"),
                                                 .product(name: "NIOCore", package: "swift-nio"),
                                                 .product(name: "NIOPosix", package: "swift-nio"),
                                                 .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                                                 .product(name: "HTTPTypes", package: "swift-http-types"),
                                                 .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                                 .product(name: "UnixSignals", package: "swift-service-lifecycle")],
                swiftSettings: strict),

        .executableTarget(
            name: "shardvault",
            dependencies: ["VolumePool", "Vault", "VaultCrypto", "FuseDriver", "S3Server", "CLinuxShims",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),

        // Bench suite: our own driver, plus ordo-one/benchmark targets for malloc counts.
        .executableTarget(
            name: "shardvault-bench",
            dependencies: ["VolumePool", "Erasure", "Buffers", "Vault", "VaultCrypto", "SeededRandom",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "bench/shardvault-bench",
            swiftSettings: strict),
        .executableTarget(
            name: "BufferMallocs",
            dependencies: ["Buffers", "Erasure", "VolumePool", .product(name: "Benchmark", package: "benchmark")],
            path: "bench/Benchmarks/BufferMallocs",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        .executableTarget(
            name: "PoolMallocs",
            dependencies: ["Buffers", "Erasure", "VolumePool", .product(name: "Benchmark", package: "benchmark")],
            path: "bench/Benchmarks/PoolMallocs",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        .executableTarget(
            name: "CryptoMallocs",
            dependencies: ["VaultCrypto", "Buffers", .product(name: "Benchmark", package: "benchmark")],
            path: "bench/Benchmarks/CryptoMallocs",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        .executableTarget(
            name: "VaultMallocs",
            dependencies: ["Vault", "VaultCrypto", "Buffers", .product(name: "Benchmark", package: "benchmark")],
            path: "bench/Benchmarks/VaultMallocs",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        .executableTarget(
            name: "FuseMallocs",
            dependencies: ["FuseDriver", "Vault", "VaultCrypto", "CLinuxShims", .product(name: "Benchmark", package: "benchmark")],
            path: "bench/Benchmarks/FuseMallocs",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),

        // Reproducible pseudo-random numbers shared by tests, the crash workload and the bench.
        .target(name: "SeededRandom", path: "Tests/SeededRandom", swiftSettings: strict),

        // The child process the crash test kills (Tests/VaultTests/CrashTests.swift).
        .executableTarget(name: "crash-workload", dependencies: ["Vault", "VaultCrypto", "SeededRandom"], path: "Tests/CrashWorkload",
                          swiftSettings: strict),

        // Tests.
        .testTarget(name: "SystemLibrariesTests",
                    dependencies: ["CFuse3", "CSodium", "CLibCrypto", "CISAL", "CXXHash"], swiftSettings: strict),
        .testTarget(name: "BuffersTests", dependencies: ["Buffers"], swiftSettings: strict),
        .testTarget(name: "ErasureTests", dependencies: ["SeededRandom", "Erasure"], swiftSettings: strict),
        .testTarget(name: "VolumePoolTests", dependencies: ["SeededRandom", "VolumePool"], swiftSettings: strict),
        .testTarget(name: "VaultCryptoTests", dependencies: ["VaultCrypto"], swiftSettings: strict),
        .testTarget(name: "VaultTests", dependencies: ["SeededRandom", "Vault", "CLinuxShims"], swiftSettings: strict),
        .testTarget(name: "CLITests", dependencies: ["VolumePool"], swiftSettings: strict),
        .testTarget(name: "FuseDriverTests", dependencies: ["FuseDriver"], swiftSettings: strict),
        // Real mounts: runs the built `shardvault mount --foreground` and uses the mount point.
        .target(name: "CFuseTestSupport", path: "Tests/CFuseTestSupport"),
        .testTarget(name: "FuseTests", dependencies: ["CFuseTestSupport", "SeededRandom"], swiftSettings: strict),
        // A real `shardvault serve --s3` on loopback, driven by boto3 / aws cli scripts in Tests/S3Tests/scripts,
        // plus in-process tests of the S3 door over a Vault (ETag refresh, key order, parsers).
        .testTarget(name: "S3Tests", dependencies: ["S3Server", "Vault", "VaultCrypto"], exclude: ["scripts"], swiftSettings: strict),
        // The bench's own code (statistics, report writers, workload scaling), imported from the executable.
        .testTarget(name: "BenchTests", dependencies: ["shardvault-bench"]),
    ]
)
