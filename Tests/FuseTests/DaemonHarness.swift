import Foundation
import Glibc
import Testing

/// Daemons started by `shardvault mount` without `--foreground` (directly or through
/// mount.shardvault). They are not children of the test — the command that started them has
/// exited — so they are known by the pid the command prints, or found in /proc by the mount
/// point they serve, and watched through /proc.
enum BackgroundDaemon {
    /// The pid in the command's "mounted on … (daemon pid N)".
    static func pid(in output: String) -> pid_t? {
        guard let range = output.range(of: "(daemon pid ") else { return nil }
        return pid_t(output[range.upperBound...].prefix { $0.isNumber })
    }

    /// Whether `pid` is running. A zombie (exited, not yet reaped by whoever adopted it) is not.
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let endOfName = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: endOfName)...].first { $0 != " " }
        return state != "Z" && state != "X"
    }

    /// Waits (with a deadline) until `pid` has exited; false if it still runs.
    static func waitForExit(_ pid: pid_t, timeout: TimeInterval = 20) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while isAlive(pid) {
            guard Date() < deadline else { return false }
            usleep(20_000)
        }
        return true
    }

    /// Live `shardvault mount` processes whose last argument is `mountpoint`.
    static func pids(serving mountpoint: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(pid_t.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.count > 2 && arguments[0].hasSuffix("shardvault") && arguments[1] == "mount"
                && arguments.last == mountpoint && isAlive(pid)
        }
    }

    /// Cleanup for `defer`, whatever state the test left: unmounts `mountpoint` (lazily if
    /// busy) and ends every daemon serving it plus `pid` (SIGTERM, then SIGKILL).
    static func stop(pid: pid_t?, mountpoint: String) {
        let daemons = Set(pids(serving: mountpoint) + (pid.map { [$0] } ?? []))
        if MountedVault.isMounted(mountpoint) {
            if (try? MountedVault.runTool("/usr/bin/fusermount3", ["-u", mountpoint]))?.status != 0 {
                _ = try? MountedVault.runTool("/usr/bin/fusermount3", ["-u", "-z", mountpoint])
            }
        }
        for daemon in daemons where isAlive(daemon) {
            if !waitForExit(daemon, timeout: 10) {
                kill(daemon, SIGTERM)
                if !waitForExit(daemon, timeout: 5) { kill(daemon, SIGKILL) }
            }
        }
        if MountedVault.isMounted(mountpoint) {
            _ = try? MountedVault.runTool("/usr/bin/fusermount3", ["-u", "-z", mountpoint])
        }
    }

    /// Where the daemon's descriptor `number` points (/dev/null, a pipe, a file).
    static func descriptorTarget(_ pid: pid_t, _ number: Int32) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(number)")
    }
}

extension MountedVault {
    /// `shardvault mount` in the background (no --foreground) with the vault's password file.
    func mountInBackground(options: [String] = [], extra: [String] = [], at mountpoint: String? = nil)
        throws -> (status: Int32, output: String, pid: pid_t?) {
        let result = try Self.run(["mount", "--password-file", passwordFile] + extra + options.flatMap { ["-o", $0] }
            + volumes + [mountpoint ?? self.mountpoint])
        return (result.status, result.output, BackgroundDaemon.pid(in: result.output))
    }
}
