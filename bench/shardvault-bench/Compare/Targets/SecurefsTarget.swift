import Foundation

/// securefs with its default format (format 4, the "lite" format: one underlying file per file,
/// encrypted names) and default block size. The key derivation is lowered to PBKDF2 with few
/// rounds — the default Argon2id (256 MiB, p 4) costs ~10 s of both cores per create and per
/// mount on this machine — which changes only create/mount time, as gocryptfs's -scryptn does.
final class SecurefsTarget: BenchTarget {
    let name = "securefs"

    func unavailableReason() -> String? {
        TargetSupport.fuseUnavailableReason(tool: "securefs", install: "apt install securefs, or make setup-bench")
    }

    func describe() -> String {
        let version = TargetSupport.debianVersion("securefs").map { "securefs \($0)" } ?? "securefs (version unknown)"
        return "\(version); create with the default format (4, lite), --pbkdf pkcs5-pbkdf2-hmac-sha256 -r 1000; mount (foreground)"
    }

    func start(root: String) throws -> TargetInstance {
        let data = root + "/data"
        let mountPoint = root + "/mnt"
        let log = root + "/securefs.log"
        try TargetSupport.makeDirectories(data, mountPoint)
        try Command.run("securefs", ["create", "--pass", TargetSupport.password,
                                     "--pbkdf", "pkcs5-pbkdf2-hmac-sha256", "--rounds", "1000", data], log: log)
        return try TargetSupport.mountedInstance {
            try FuseDaemon("securefs", ["mount", "--pass", TargetSupport.password, data, mountPoint],
                           mountPoint: mountPoint, logPath: log)
        }
    }
}
