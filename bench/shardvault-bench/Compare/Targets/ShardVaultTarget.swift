import Foundation

/// ShardVault through its FUSE door: a fresh 4+2 vault over six directories of the measured disk
/// (`shardvault init --kdf test`), served by `shardvault mount --foreground` as our child.
///
/// Variants are separate targets named `shardvault:OPT+OPT` (mount -o options), so settings can
/// be compared side by side in one run: `--targets shardvault,shardvault:max_threads=1,native`.
final class ShardVaultTarget: BenchTarget {
    let name: String
    /// `shardvault` next to this `shardvault-bench`, unless `--shardvault PATH` names one.
    let binary: String
    /// `-o` options for `mount`: `--shardvault-mount-option`, then the variant's own.
    let mountOptions: [String]

    init(binary: String?, mountOptions: [String], variant: [String] = []) {
        name = variant.isEmpty ? "shardvault" : "shardvault:" + variant.joined(separator: "+")
        self.binary = binary ?? Self.siblingBinary()
        self.mountOptions = mountOptions + variant
    }

    static func siblingBinary() -> String {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return executable.deletingLastPathComponent().appendingPathComponent("shardvault").path
    }

    func unavailableReason() -> String? {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            return "\(binary) not found (swift build -c release --product shardvault, or --shardvault PATH)"
        }
        return TargetSupport.fuseUnavailableReason(tool: binary, install: "")
    }

    func describe() -> String {
        let options = mountOptions.isEmpty ? "" : ", -o " + mountOptions.joined(separator: ",")
        return "\(binary): 4+2 over 6 directories of the same disk, init --kdf test, mount --foreground\(options)"
    }

    func start(root: String) throws -> TargetInstance {
        let volumes = (0 ..< 6).map { "\(root)/volume\($0)" }
        let mountPoint = root + "/mnt"
        let passwordFile = root + "/password"
        let log = root + "/shardvault.log"
        try TargetSupport.makeDirectories(mountPoint)
        try TargetSupport.writeSecret(TargetSupport.password, to: passwordFile)
        try Command.run(binary, ["init", "--kdf", "test", "--password-file", passwordFile] + volumes, log: log)
        return try TargetSupport.mountedInstance { [binary, mountOptions] in
            try FuseDaemon(
                binary, ["mount", "--foreground", "--password-file", passwordFile]
                    + mountOptions.flatMap { ["-o", $0] } + volumes + [mountPoint],
                mountPoint: mountPoint, logPath: log)
        }
    }
}
