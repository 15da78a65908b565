import Foundation

/// The daemons serving a mount point, found by their command line in /proc, so that
/// `shardvault unmount` can return only once the daemon has written back, closed the vault
/// and exited — a mount, `fsck` or `status` right after it then finds the volumes free.
enum MountDaemons {
    /// shardvault processes running `mount … MOUNTPOINT` (the daemon gets the absolute mount
    /// point as its last argument; see `Mount.run`).
    static func serving(_ mountpoint: String) -> [pid_t] {
        let absolute = MountPoint.absolute(mountpoint)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(pid_t.init).filter { pid in
            guard pid != getpid(), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.count > 2 && arguments[0].hasSuffix("shardvault") && arguments[1] == "mount"
                && arguments.last.map(MountPoint.absolute) == absolute
        }
    }

    /// Waits until every one of `pids` has exited; after a second says what it is waiting
    /// for. False when `timeout` passed first.
    static func waitForExit(_ pids: [pid_t], timeout: Duration = .seconds(600)) -> Bool {
        let clock = ContinuousClock()
        let start = clock.now
        var announced = false
        while pids.contains(where: isAlive) {
            let waited = clock.now - start
            if waited > timeout { return false }
            if !announced && waited > .seconds(1) {
                Output.note("waiting for the daemon (pid \(pids.map(String.init).joined(separator: ", "))) "
                    + "to write back and close the vault")
                announced = true
            }
            usleep(20_000)
        }
        return true
    }

    /// Alive and not a zombie (a daemon started by this process and not yet reaped is done).
    private static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = status.lastIndex(of: ")") else { return false }
        return !status[status.index(after: close)...].hasPrefix(" Z")
    }
}
