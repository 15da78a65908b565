import Foundation

/// A child process started with `posix_spawn`, for the `compare` bench's tools (tar, ls, md5sum)
/// and FUSE daemons.
///
/// Foundation's `Process` is not used because the bench needs three things it does not offer:
/// a working directory per child without changing our own (md5sum -c reads relative paths), a
/// new process group for daemons (so a terminal Ctrl-C reaches the bench, which unmounts in
/// order, instead of killing every daemon at once), and signal dispositions reset to default
/// (the bench ignores SIGINT/SIGTERM itself while its cleanup runs; children must not inherit that).
struct ChildProcess: Sendable {
    let pid: pid_t
    /// Name for messages (the executable's last path component).
    let name: String

    enum Input: Sendable {
        case null
        case file(String)
    }

    enum Output: Sendable {
        case null
        /// Appended to (created when missing).
        case file(String)
        /// A pipe whose read end `spawn` returns; the caller reads it to EOF, then waits.
        case pipe
        /// This process's own descriptor (a child bench mode writing to our terminal).
        case inherit
    }

    enum Termination: Equatable, CustomStringConvertible, Sendable {
        case exited(Int32)
        case signalled(Int32)

        var succeeded: Bool { self == .exited(0) }
        var description: String {
            switch self {
            case let .exited(status): return "exit status \(status)"
            case let .signalled(signal): return "killed by signal \(signal)"
            }
        }
    }

    /// Starts `executable` (a path, or a name looked up in $PATH) with `arguments`.
    /// `environment` entries are added to (or replace) this process's environment. stderr goes
    /// where stdout goes unless `stderr` is given. Returns the read end of the pipe for `.pipe`.
    static func spawn(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                      directory: String? = nil, stdin: Input = .null, stdout: Output = .null,
                      stderr: Output? = nil, newProcessGroup: Bool = false) throws -> (ChildProcess, Int32?) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        switch stdin {
        case .null: posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case let .file(path): posix_spawn_file_actions_addopen(&actions, 0, path, O_RDONLY, 0)
        }
        var pipeEnds: [Int32] = [-1, -1]
        func redirect(_ output: Output, to descriptor: Int32) throws {
            switch output {
            case .null:
                posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", O_WRONLY, 0)
            case let .file(path):
                posix_spawn_file_actions_addopen(&actions, descriptor, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            case .pipe:
                if pipeEnds[0] < 0 {
                    guard pipe(&pipeEnds) == 0 else { throw BenchError.io("pipe", errno) }
                    _ = fcntl(pipeEnds[0], F_SETFD, FD_CLOEXEC)
                }
                posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], descriptor)
            case .inherit:
                break
            }
        }
        try redirect(stdout, to: 1)
        if let stderr {
            try redirect(stderr, to: 2)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        if pipeEnds[1] >= 0 { posix_spawn_file_actions_addclose(&actions, pipeEnds[1]) }
        if let directory { try addChangeDirectory(&actions, directory) }

        var flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        if newProcessGroup {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)

        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = executable.contains("/")
            ? posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
            : posix_spawnp(&pid, executable, &actions, &attributes, argv, envp)
        if pipeEnds[1] >= 0 { close(pipeEnds[1]) }
        guard status == 0 else {
            if pipeEnds[0] >= 0 { close(pipeEnds[0]) }
            throw BenchError.io("spawn \(executable)", status)
        }
        let name = executable.split(separator: "/").last.map(String.init) ?? executable
        return (ChildProcess(pid: pid, name: name), pipeEnds[0] >= 0 ? pipeEnds[0] : nil)
    }

    /// Blocks until the child ends.
    func wait() -> Termination {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return .exited(-1) }
        }
        return Self.decode(status)
    }

    /// Waits at most `seconds`; nil when the child is still running then.
    func wait(seconds: Double) -> Termination? {
        let deadline = monotonicNanoseconds() + UInt64(max(0, seconds) * 1e9)
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return Self.decode(status) }
            if result < 0 && errno != EINTR { return .exited(-1) }
            if monotonicNanoseconds() >= deadline { return nil }
            usleep(10_000)
        }
    }

    /// Sends `signal` to the child, or to its whole process group when it leads one (daemons such
    /// as JuiceFS fork helpers that must go too).
    func signal(_ signal: Int32, group: Bool = false) {
        _ = kill(group ? -pid : pid, signal)
    }

    private static func decode(_ status: Int32) -> Termination {
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }

    /// `posix_spawn_file_actions_addchdir_np` (glibc 2.29+); Swift's Glibc module hides GNU
    /// extensions, so it is found with dlsym as `SystemIO.syncFileSystem` finds syncfs.
    private static func addChangeDirectory(_ actions: inout posix_spawn_file_actions_t, _ directory: String) throws {
        typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addchdir_np") else {
            throw BenchError.setup("posix_spawn_file_actions_addchdir_np not found in libc (glibc 2.29+ needed)")
        }
        let function = unsafeBitCast(symbol, to: AddChdir.self)
        let status = withUnsafeMutablePointer(to: &actions) { function($0, directory) }
        guard status == 0 else { throw BenchError.io("posix_spawn chdir \(directory)", status) }
    }
}

/// Short-lived commands of target set-up and of the kernel subset cache: run to completion with a
/// deadline, output appended to a log file that is quoted when the command fails.
enum Command {
    /// Runs the command; throws with the log's tail unless it exits 0 within `timeout` seconds.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                    directory: String? = nil, stdin: ChildProcess.Input = .null, log: String,
                    timeout: Double = 600) throws {
        appendLine(log, "$ " + ([executable] + arguments).joined(separator: " "))
        let (child, _) = try ChildProcess.spawn(executable, arguments, environment: environment, directory: directory,
                                                stdin: stdin, stdout: .file(log))
        guard let termination = child.wait(seconds: timeout) else {
            child.signal(SIGKILL)
            _ = child.wait()
            throw BenchError.setup("\(child.name) did not finish within \(Int(timeout)) s; log \(log):\n\(tail(of: log))")
        }
        guard termination.succeeded else {
            throw BenchError.setup("\(child.name) failed (\(termination)); log \(log):\n\(tail(of: log))")
        }
    }

    /// Runs the command and returns its stdout+stderr (for version strings); nil when it fails.
    static func output(_ executable: String, _ arguments: [String], timeout: Double = 20) -> String? {
        guard let (child, readEnd) = try? ChildProcess.spawn(executable, arguments, stdout: .pipe),
              let readEnd else { return nil }
        let text = readAll(readEnd)
        close(readEnd)
        guard let termination = child.wait(seconds: timeout) else {
            child.signal(SIGKILL)
            _ = child.wait()
            return nil
        }
        return termination.succeeded ? text : nil
    }

    static func readAll(_ descriptor: Int32) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(descriptor, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes += chunk[0 ..< count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func appendLine(_ path: String, _ line: String) {
        guard let handle = FileHandle(forWritingAtPath: path) ?? {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }() else { return }
        handle.seekToEndOfFile()
        handle.write(Data((line + "\n").utf8))
        try? handle.close()
    }

    /// The last `lines` lines of a log, indented, for error messages.
    static func tail(of path: String, lines: Int = 12) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines)
            .map { "    " + $0 }.joined(separator: "\n")
    }

    /// `name` found in $PATH (or `name` itself when it is an executable path); nil when missing.
    static func find(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
