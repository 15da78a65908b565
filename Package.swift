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

        // Layers, top to bottom.
        .target(name: "Buffers", swiftSettings: strict),
        .target(name: "Erasure", dependencies: ["CISAL", "CXXHash", "Buffers"], swiftSettings: strict),
        .target(name: "VolumePool", dependencies: ["Erasure", "Buffers", "CLinuxShims"], swiftSettings: strict),
        .target(name: "VaultCrypto", dependencies: ["CSodium", "CLibCrypto", "Buffers"], swiftSettings: strict),
        .target(name: "Vault", dependencies: ["VolumePool", "VaultCrypto", "Buffers"], swiftSettings: strict),
        .target(name: "FuseDriver", dependencies: ["CFuse3", "Vault", "VaultCrypto", "Buffers"], swiftSettings: strict),

        .executableTarget(
            name: "shardvault",
            dependencies: ["VolumePool", "Vault", "VaultCrypto", "FuseDriver", "CLinuxShims",
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
        .testTarget(name: "VaultTests", dependencies: ["SeededRandom", "Vault"], swiftSettings: strict),
        .testTarget(name: "CLITests", dependencies: ["VolumePool"], swiftSettings: strict),
        .testTarget(name: "FuseDriverTests", dependencies: ["FuseDriver"], swiftSettings: strict),
        // Real mounts: runs the built `shardvault mount --foreground` and uses the mount point.
        .target(name: "CFuseTestSupport", path: "Tests/CFuseTestSupport"),
        .testTarget(name: "FuseTests", dependencies: ["CFuseTestSupport"], swiftSettings: strict),
    ]
)
