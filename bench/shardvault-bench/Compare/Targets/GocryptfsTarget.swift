import Foundation

/// gocryptfs with its defaults (AES-256-GCM content, EME names, 4 KiB blocks). `-init
/// -scryptn 10` as gocryptfs's own canonical benchmark does: it only makes init and mount faster,
/// never the filesystem.
final class GocryptfsTarget: BenchTarget {
    let name = "gocryptfs"

    func unavailableReason() -> String? {
        TargetSupport.fuseUnavailableReason(tool: "gocryptfs", install: "apt install gocryptfs, or make setup-bench")
    }

    func describe() -> String {
        let version = TargetSupport.firstLine("gocryptfs", ["-version"]) ?? "gocryptfs (version unknown)"
        return "\(version); -init -scryptn 10 -passfile, mount -f, default options"
    }

    func start(root: String) throws -> TargetInstance {
        let cipher = root + "/cipher"
        let mountPoint = root + "/mnt"
        let passwordFile = root + "/password"
        let log = root + "/gocryptfs.log"
        try TargetSupport.makeDirectories(cipher, mountPoint)
        try TargetSupport.writeSecret(TargetSupport.password + "\n", to: passwordFile)
        try Command.run("gocryptfs", ["-init", "-q", "-scryptn", "10", "-passfile", passwordFile, cipher], log: log)
        return try TargetSupport.mountedInstance {
            try FuseDaemon("gocryptfs", ["-f", "-q", "-passfile", passwordFile, cipher, mountPoint],
                           mountPoint: mountPoint, logPath: log)
        }
    }
}
