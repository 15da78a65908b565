import Foundation
import Synchronization

/// A FUSE filesystem daemon run in the foreground as our child, in its own process group.
///
/// Every FUSE peer is run the same way (gocryptfs -f, securefs mount, cryfs -f, juicefs mount
/// without -d, shardvault mount --foreground) so that the bench always knows the pid to kill,
/// captures the daemon's log, and sees an early exit as an error instead of a mount that never
/// appears. Daemonizing changes nothing in how the daemon serves requests.
final class FuseDaemon {
    let mountPoint: String
    let logPath: String
    private let child: ChildProcess
    private var cleanupID: Int?

    /// How long a clean unmount may take: the daemon writes back what it buffers (JuiceFS
    /// uploads, ShardVault commits and checkpoints) and finishes deferred work (ShardVault frees
    /// deleted files' blocks after the commit, which took minutes after rm -rf of a kernel tree)
    /// before it exits. Generous, because that time is itself reported.
    static let unmountSeconds = 600.0

    /// Starts the daemon and waits until `mountPoint` shows up in /proc/self/mountinfo.
    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
         stdin: ChildProcess.Input = .null, mountPoint: String, logPath: String,
         mountTimeout: Double = 120) throws {
        self.mountPoint = mountPoint
        self.logPath = logPath
        Command.appendLine(logPath, "$ " + ([executable] + arguments).joined(separator: " "))
        // Registered before the spawn, so there is no moment at which a Ctrl-C could miss the
        // daemon; the slot makes the spawn and a concurrent cleanup exclude each other.
        let slot = DaemonSlot()
        cleanupID = CleanupRegistry.shared.register("unmount \(mountPoint)") {
            if let child = slot.cancel() { Self.forceStop(child: child, mountPoint: mountPoint) }
        }
        guard let child = try slot.fill({
            try ChildProcess.spawn(executable, arguments, environment: environment, stdin: stdin,
                                   stdout: .file(logPath), newProcessGroup: true).0
        }) else {
            CleanupRegistry.shared.parkIfInterrupted()
            throw BenchError.setup("\(executable) not started: interrupted")
        }
        self.child = child
        let deadline = monotonicNanoseconds() + UInt64(mountTimeout * 1e9)
        while !Self.isMounted(mountPoint) {
            if let ended = child.wait(seconds: 0.02) {
                release()
                throw BenchError.setup("\(child.name) exited before mounting (\(ended)); log \(logPath):\n"
                                       + Command.tail(of: logPath))
            }
            if monotonicNanoseconds() > deadline {
                stop()
                throw BenchError.setup("\(child.name) did not mount \(mountPoint) within \(Int(mountTimeout)) s; log \(logPath):\n"
                                       + Command.tail(of: logPath))
            }
        }
    }

    var pid: pid_t { child.pid }

    /// Unmounts by mount point (the kernel writes back dirty pages first), waits for the daemon
    /// to exit, and escalates — lazy unmount, SIGTERM, SIGKILL to the process group — when it
    /// does not. Returns a problem worth reporting, or nil when it went cleanly.
    @discardableResult
    func stop() -> String? {
        guard let id = cleanupID else { return nil }
        cleanupID = nil
        // Forgotten only once the daemon is gone: a Ctrl-C meanwhile must still wait for it.
        defer { CleanupRegistry.shared.forget(id) }
        var problem: String?
        if Self.isMounted(mountPoint) {
            let unmount = try? ChildProcess.spawn("fusermount3", ["-u", mountPoint], stdout: .file(logPath)).0
            if let unmount, unmount.wait(seconds: 60)?.succeeded != true {
                problem = "fusermount3 -u \(mountPoint) failed (busy?)"
            }
        }
        if child.wait(seconds: problem == nil ? Self.unmountSeconds : 1) == nil {
            problem = (problem.map { $0 + "; " } ?? "") + "\(child.name) (pid \(child.pid)) did not exit after unmount"
            Self.forceStop(child: child, mountPoint: mountPoint)
        }
        return problem
    }

    /// The daemon has already gone (it failed to mount): nothing to unmount any more.
    private func release() {
        if let id = cleanupID { CleanupRegistry.shared.forget(id) }
        cleanupID = nil
    }

    /// Last resort (also the Ctrl-C path): lazy unmount, then SIGTERM and SIGKILL to the group.
    static func forceStop(child: ChildProcess, mountPoint: String) {
        if isMounted(mountPoint) {
            // `-u` first: it lets the kernel write back dirty pages; `-z` only if that fails.
            if let unmount = try? ChildProcess.spawn("fusermount3", ["-u", mountPoint]).0,
               unmount.wait(seconds: 20)?.succeeded != true,
               let lazy = try? ChildProcess.spawn("fusermount3", ["-u", "-z", mountPoint]).0 {
                _ = lazy.wait(seconds: 20)
            }
        }
        if child.wait(seconds: 10) == nil {
            child.signal(SIGTERM, group: true)
            if child.wait(seconds: 10) == nil {
                child.signal(SIGKILL, group: true)
                _ = child.wait(seconds: 10)
            }
        }
        // A daemon that was still starting may have mounted after the first check; killed, it
        // leaves a dead mount that only a lazy unmount removes.
        if isMounted(mountPoint), let lazy = try? ChildProcess.spawn("fusermount3", ["-u", "-z", mountPoint]).0 {
            _ = lazy.wait(seconds: 20)
        }
    }

    /// True when `path` is a mount point.
    static func isMounted(_ path: String) -> Bool {
        mountPoints().contains(path)
    }

    /// Every mount point this process sees: field 5 of /proc/self/mountinfo, with the octal
    /// escapes of space, tab, newline and backslash decoded.
    static func mountPoints() -> [String] {
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        return table.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            return fields[4].replacingOccurrences(of: "\\040", with: " ").replacingOccurrences(of: "\\011", with: "\t")
                .replacingOccurrences(of: "\\012", with: "\n").replacingOccurrences(of: "\\134", with: "\\")
        }
    }
}

/// The daemon's child process, shared between the bench thread that spawns it and a cleanup that
/// may run on the signal thread: whichever comes first wins, so a cleanup never runs before the
/// spawn finished and no spawn happens after a cleanup.
private final class DaemonSlot: Sendable {
    private let state = Mutex<(child: ChildProcess?, cancelled: Bool)>((nil, false))

    /// Runs `spawn` and keeps its child, unless cancelled first (then nil, nothing spawned).
    func fill(_ spawn: () throws -> ChildProcess) throws -> ChildProcess? {
        try state.withLock { slot in
            guard !slot.cancelled else { return nil }
            let child = try spawn()
            slot.child = child
            return child
        }
    }

    /// Marks the slot cancelled; returns the child to stop when one was spawned.
    func cancel() -> ChildProcess? {
        state.withLock { slot in
            slot.cancelled = true
            return slot.child
        }
    }
}
