import ArgumentParser
import CLinuxShims
import Foundation
import Glibc
import VaultCrypto

/// `shardvault mount` without `--foreground`: detach only once the mount is live.
///
/// fork() after the Swift runtime and Foundation have started threads is unsafe, so the
/// command starts its own executable again (`/proc/self/exe mount --foreground …`) in a new
/// session, with two pipes: one carries the password (never argv or the environment), the
/// other comes back with "ready PID" once the mount is live. Until then the daemon writes
/// its messages on this command's stderr, so a wrong password, locked volumes or a failed
/// mount are printed here and this command exits with the daemon's status. On success the
/// daemon has already pointed its stdout/stderr at /dev/null (or `--log-file`), so whoever
/// reads this command's output sees it end.
struct MountDaemon {
    var volumes: [String]
    var mountpoint: String
    var mountOptions: [String]
    var logFile: String?

    /// What the daemon writes on the ready pipe once the mount is live.
    static let readyWord = "ready"

    /// Starts the daemon and waits until it reports the mount live (returns its pid) or
    /// exits (throws `ExitCode` with its status; it has printed why).
    func start(password: borrowing SecureBytes) throws -> pid_t {
        var passwordPipe = try Self.pipe()
        defer { Self.close(passwordPipe) }
        var readyPipe = try Self.pipe()
        defer { Self.close(readyPipe) }
        // Well under the pipe's capacity (maximumPasswordBytes), so this cannot block.
        try password.withUnsafeBytes { bytes throws(CLIFailure) in
            guard Self.writeAll(passwordPipe.write, bytes) else {
                throw CLIFailure.failed("cannot hand the password to the mount daemon: \(String(cString: strerror(errno)))")
            }
        }
        Glibc.close(passwordPipe.write)
        passwordPipe.write = -1
        // Read or not (--password-file comes first), it must not live on in the daemon's
        // environment for as long as the mount does.
        unsetenv(Passwords.environmentVariable)

        let arguments = ["mount", "--foreground",
                         "--daemon-ready-fd", String(readyPipe.write), "--daemon-password-fd", String(passwordPipe.read)]
            + (logFile.map { ["--log-file", $0] } ?? [])
            + mountOptions.flatMap { ["-o", $0] } + ["--"] + volumes + [mountpoint]
        let pid = try spawn(arguments, inheriting: [readyPipe.write, passwordPipe.read])
        // Only the daemon may hold the write end, so the read below ends when it exits.
        Glibc.close(readyPipe.write)
        readyPipe.write = -1

        let report = Self.readAll(readyPipe.read)
        let words = report.split(separator: " ")
        if words.count == 2, words[0] == Self.readyWord, let reported = pid_t(words[1].trimmingCharacters(in: .whitespacesAndNewlines)) {
            return reported
        }
        throw daemonFailure(pid)
    }

    /// The daemon ended before reporting the mount live: its exit status becomes ours.
    private func daemonFailure(_ pid: pid_t) -> any Error {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0
        if exited {
            let code = (status >> 8) & 0xff
            return code == 0 ? CLIFailure.failed("the mount daemon exited before the mount was live") : ExitCode(code)
        }
        return CLIFailure.failed("the mount daemon died of signal \(status & 0x7f) before the mount was live")
    }

    /// posix_spawn of this executable in a new session (no controlling terminal, not in the
    /// terminal's process group, so Ctrl-C and hang-ups there do not reach it), with default
    /// signal handling, stdin from /dev/null, and stdout/stderr shared with this command.
    private func spawn(_ arguments: [String], inheriting descriptors: [Int32]) throws -> pid_t {
        Self.closeOnExecEverything(except: descriptors)
        for descriptor in descriptors where fcntl(descriptor, F_SETFD, 0) != 0 {
            throw CLIFailure.failed("cannot pass a pipe to the mount daemon: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(SHARDVAULT_POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let executable = Self.runningExecutable()
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw CLIFailure.failed("cannot start the mount daemon: \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// The binary running now, whatever PATH or argv[0] say. Its real path rather than
    /// /proc/self/exe so the daemon shows up as `shardvault` in ps and pgrep; /proc/self/exe
    /// when the file was replaced meanwhile (an upgrade), which still runs the same binary.
    private static func runningExecutable() -> String {
        let link = "/proc/self/exe"
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link),
              !target.hasSuffix(" (deleted)") else { return link }
        return target
    }

    /// Descriptors this command inherited (a CI runner's pipe, an ssh channel) must not stay
    /// open in a daemon that outlives it: whoever waits for their end would wait for the
    /// unmount. Only stdin/stdout/stderr and `kept` reach the daemon.
    private static func closeOnExecEverything(except kept: [Int32]) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for descriptor in entries.compactMap(Int32.init) where descriptor > STDERR_FILENO && !kept.contains(descriptor) {
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        }
    }

    /// A pipe whose ends are closed on exec unless handed over explicitly (`spawn`).
    private static func pipe() throws -> (read: Int32, write: Int32) {
        var ends: [Int32] = [-1, -1]
        guard shardvault_pipe2(&ends, O_CLOEXEC) == 0 else {
            throw CLIFailure.failed("cannot create a pipe for the mount daemon: \(String(cString: strerror(errno)))")
        }
        return (ends[0], ends[1])
    }

    private static func close(_ ends: (read: Int32, write: Int32)) {
        for descriptor in [ends.read, ends.write] where descriptor >= 0 { Glibc.close(descriptor) }
    }

    static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }

    /// Everything until end of file (a short status line).
    private static func readAll(_ descriptor: Int32) -> String {
        var collected: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let got = read(descriptor, &buffer, buffer.count)
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            collected += buffer[..<got]
        }
        return String(decoding: collected, as: UTF8.self)
    }
}

/// The background daemon's side of MountDaemon: set up before the vault opens, reports once
/// the mount is live.
struct DaemonSide {
    let readyDescriptor: Int32
    /// Opened now, so a log file that cannot be written is reported before detaching.
    let logDescriptor: Int32

    init(readyDescriptor: Int32, logFile: String?) throws {
        self.readyDescriptor = readyDescriptor
        // Not for fusermount3 and other children: the launcher's read must end with us.
        _ = fcntl(readyDescriptor, F_SETFD, FD_CLOEXEC)
        let path = logFile ?? "/dev/null"
        logDescriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard logDescriptor >= 0 else {
            throw CLIFailure.failed("cannot open the log file \(path): \(String(cString: strerror(errno)))")
        }
        // The launcher may be gone when we report (Ctrl-C while it waited): that must be an
        // EPIPE to handle, not a signal that kills a live mount and leaves it stale.
        signal(SIGPIPE, SIG_IGN)
        // Paths arrive absolute; keep no directory busy (one on a disk someone wants to unmount).
        chdir("/")
    }

    /// Detaches stdout/stderr from the launcher (so its caller sees them end), then tells it
    /// the mount is live. If nobody is listening any more, nobody knows the mount exists:
    /// undo it the normal way (SIGTERM to ourselves reaches the signal watcher).
    func reportMounted() {
        dup2(logDescriptor, STDOUT_FILENO)
        dup2(logDescriptor, STDERR_FILENO)
        Glibc.close(logDescriptor)
        var message = "\(MountDaemon.readyWord) \(getpid())\n"
        let delivered = message.withUTF8 { MountDaemon.writeAll(readyDescriptor, UnsafeRawBufferPointer($0)) }
        Glibc.close(readyDescriptor)
        if !delivered {
            Output.error("the command that started this daemon is gone; unmounting")
            kill(getpid(), SIGTERM)
        }
    }
}
