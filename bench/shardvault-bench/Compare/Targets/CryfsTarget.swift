import Foundation

/// CryFS with its defaults (xchacha20-poly1305, 16 KiB blocks). The first mount of an empty base
/// directory creates the filesystem; `CRYFS_FRONTEND=noninteractive` makes it take the password
/// from stdin and accept the defaults. Its scrypt settings are fixed (strong), so set-up takes
/// several seconds of CPU per iteration — untimed. The local state directory (filesystem ids,
/// integrity data) is per instance, so an instance never inherits another's history.
final class CryfsTarget: BenchTarget {
    let name = "cryfs"

    func unavailableReason() -> String? {
        TargetSupport.fuseUnavailableReason(tool: "cryfs", install: "apt install cryfs, or make setup-bench")
    }

    func describe() -> String {
        let version = TargetSupport.firstLine("cryfs", ["--version"]) ?? "CryFS (version unknown)"
        return "\(version); defaults (xchacha20-poly1305, 16 KiB blocks), -f, password on stdin, --config in the instance"
    }

    func start(root: String) throws -> TargetInstance {
        let base = root + "/base"
        let mountPoint = root + "/mnt"
        let state = root + "/local-state"
        let passwordFile = root + "/password"
        let log = root + "/cryfs.log"
        try TargetSupport.makeDirectories(base, mountPoint, state)
        try TargetSupport.writeSecret(TargetSupport.password + "\n", to: passwordFile)
        let environment = ["CRYFS_FRONTEND": "noninteractive", "CRYFS_NO_UPDATE_CHECK": "true",
                           "CRYFS_LOCAL_STATE_DIR": state]
        // Creation runs scrypt with CryFS's strong fixed settings: minutes on a loaded 2-core machine.
        return try TargetSupport.mountedInstance {
            try FuseDaemon("cryfs", ["-f", "--config", root + "/cryfs.config", base, mountPoint],
                           environment: environment, stdin: .file(passwordFile),
                           mountPoint: mountPoint, logPath: log, mountTimeout: 600)
        }
    }
}
