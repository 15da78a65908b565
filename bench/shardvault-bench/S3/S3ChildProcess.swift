import Dispatch
import Foundation

/// A process the `s3` mode started (a server or the Python driver). Every one is registered
/// with `S3Teardown` so it is stopped by its PID whatever way the run ends.
final class S3ChildProcess: @unchecked Sendable {
    let name: String
    let process: Process
    /// Where its stderr (and stdout unless given another destination) goes.
    let logPath: String
    /// How long SIGTERM is given before SIGKILL: ShardVault commits and checkpoints on the way out.
    let gracePeriod: Double

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// Starts `executable` (a path, or a name looked up in PATH). `standardOutput`/`standardInput`
    /// may be a Pipe or FileHandle; nil sends stdout to the log and reads stdin from /dev/null.
    init(name: String, executable: String, arguments: [String], environment: [String: String] = [:],
         logPath: String, standardOutput: Any? = nil, standardInput: Any? = nil, gracePeriod: Double = 10) throws {
        guard let path = S3Tools.find(executable) else { throw BenchError.setup("\(executable) not found in PATH") }
        self.name = name
        self.logPath = logPath
        self.gracePeriod = gracePeriod
        process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? log.close() }
        process.standardError = log
        process.standardOutput = standardOutput ?? log
        process.standardInput = standardInput ?? FileHandle.nullDevice
        try process.run()
        S3Teardown.shared.register(self)
    }

    /// SIGTERM, then SIGKILL after the grace period; waits for the exit. Safe to call twice.
    func stop() {
        defer { S3Teardown.shared.unregister(self) }
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(gracePeriod)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// The last lines of the log, for error messages.
    func logTail(lines: Int = 8) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Waits until a line of the file at `path` starts with `prefix`; returns the rest of it.
    func waitForLine(startingWith prefix: String, in path: String, timeout: Double) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) {
                return String(line.dropFirst(prefix.count))
            }
            try checkAlive(before: deadline, waitingFor: "'\(prefix)'")
            usleep(20_000)
        }
    }

    /// Waits until something accepts TCP connections on 127.0.0.1:`port`.
    func waitForPort(_ port: Int, timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !S3Tools.acceptsConnections(port: port) {
            try checkAlive(before: deadline, waitingFor: "port \(port)")
            usleep(50_000)
        }
    }

    private func checkAlive(before deadline: Date, waitingFor what: String) throws {
        guard process.isRunning else {
            throw BenchError.setup("\(name) exited (status \(process.terminationStatus)) before \(what):\n\(logTail())")
        }
        guard Date() < deadline else {
            throw BenchError.setup("\(name) gave no \(what) in time:\n\(logTail())")
        }
    }
}

/// Stops every registered child, at the end of the run or on SIGINT/SIGTERM/SIGHUP (then
/// exits 128+signal), and removes the scratch directory the signal interrupted.
final class S3Teardown: @unchecked Sendable {
    static let shared = S3Teardown()

    private let lock = NSLock()
    private var children: [ObjectIdentifier: S3ChildProcess] = [:]
    private var scratchToRemove: String?
    private var signalSources: [DispatchSourceSignal] = []
    /// Set by the signal handler; from then on it alone tears down (and exits).
    private var interrupted = false

    func register(_ child: S3ChildProcess) { lock.withLock { children[ObjectIdentifier(child)] = child } }
    func unregister(_ child: S3ChildProcess) { _ = lock.withLock { children.removeValue(forKey: ObjectIdentifier(child)) } }
    func removeOnSignal(_ path: String?) { lock.withLock { scratchToRemove = path } }

    /// The normal end of the run: stops the children. If a signal is being handled, the main
    /// thread parks here instead, so it cannot remove the scratch directory under servers that
    /// are still shutting down; the handler exits the process.
    func finish() {
        if lock.withLock({ interrupted }) {
            while true { pause() }
        }
        stopAll()
    }

    /// Stops the children, newest first (the driver before the servers it talks to).
    func stopAll() {
        let running = lock.withLock { Array(children.values).sorted { $0.pid > $1.pid } }
        for child in running { child.stop() }
    }

    func installSignalHandlers() {
        // A driver that died must not kill the bench with SIGPIPE; the write fails instead.
        signal(SIGPIPE, SIG_IGN)
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                lock.withLock { interrupted = true }
                FileHandle.standardError.write(Data("\nshardvault-bench s3: signal \(number), stopping the servers\n".utf8))
                stopAll()
                if let path = lock.withLock({ scratchToRemove }) { try? FileManager.default.removeItem(atPath: path) }
                exit(128 + number)
            }
            source.resume()
            signalSources.append(source)
        }
    }
}

/// Small helpers for finding tools and ports.
enum S3Tools {
    /// `name` itself when it contains a slash, otherwise the first executable of that name in PATH.
    static func find(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let extra = ["/usr/sbin", "/sbin"]   // nginx lives in sbin, often outside a user's PATH
        for directory in path.split(separator: ":").map(String.init) + extra {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs a tool to completion; returns its exit status and everything it printed.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws
        -> (status: Int32, output: String) {
        guard let path = find(executable) else { throw BenchError.setup("\(executable) not found in PATH") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// A loopback port nothing listens on right now (bound to port 0 and released).
    static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError.io("socket", errno) }
        defer { close(fd) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw BenchError.io("bind 127.0.0.1:0", errno) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw BenchError.io("getsockname", errno) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func acceptsConnections(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
