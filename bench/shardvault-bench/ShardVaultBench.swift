import ArgumentParser

/// `shardvault-bench`: ShardVault's benchmark driver. One subcommand per job, one file each.
@main
struct ShardVaultBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shardvault-bench",
        abstract: "ShardVault benchmark suite (layer micro-benchmarks and workloads).",
        discussion: "Output schema and method: bench/README.md and docs/BENCHMARKS.md.",
        version: BenchVersion.string,
        subcommands: [MicroCommand.self, VaultCommand.self, CompareCommand.self, S3Command.self, DiffCommand.self,
                      VaultOpenProbe.self])
}

enum BenchVersion {
    static let string = "0.1.0"
    /// Bumped whenever a result name or the JSON layout changes meaning.
    static let schema = 1
}
