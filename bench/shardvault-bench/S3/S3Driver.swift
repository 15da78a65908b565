import Foundation

/// One command for the Python driver (S3DriverScript); unset fields are left out of the JSON.
struct S3DriverCommand: Encodable {
    var cmd: String
    var target: String?
    var endpoint: String?
    var accessKey: String?
    var secretKey: String?
    var bucket: String?
    var prefix: String?
    var size: Int?
    var count: Int?
    var clients: Int?
    var repeatCount: Int?
    var directory: String?
    var host: String?
    var port: Int?

    init(_ cmd: String, target: S3TargetKind? = nil) {
        self.cmd = cmd
        self.target = target?.rawValue
    }

    enum CodingKeys: String, CodingKey {
        case cmd, target, endpoint, accessKey, secretKey, bucket, prefix, size, count, clients, directory, host, port
        case repeatCount = "repeat"
    }
}

/// The driver's answer. Timed commands fill seconds…bytes; `verified` counts the bodies whose
/// SHA-256 matched what was written.
struct S3DriverReply: Decodable {
    var ok: Bool
    var error: String?
    var seconds: Double?
    var cpuSeconds: Double?
    var operations: Int?
    var bytes: Int?
    var verified: Int?
    var versions: [String: String]?

    /// The timed part as a bench `Sample`, plus the client's CPU seconds.
    func timing(_ what: String) throws -> (sample: Sample, cpuSeconds: Double) {
        guard let seconds, let operations, let bytes else { throw BenchError.setup("driver: \(what) returned no timing") }
        return (Sample(operations: operations, bytes: bytes, seconds: seconds), cpuSeconds ?? 0)
    }
}

/// Failure reported by the driver for one command (the target is then dropped, the run goes on).
struct S3DriverFailure: Error, CustomStringConvertible {
    var description: String
}

/// The Swift side of the driver: a `python3` child fed commands over a pipe, one at a time.
final class S3Driver {
    private let child: S3ChildProcess
    private let input: FileHandle
    private let output: Int32
    private var pending: [UInt8] = []
    private let encoder = JSONEncoder()
    private let decoder = JSONDecoder()

    /// Writes the script into `directory` and starts it with `python`.
    init(python: String, directory: String) throws {
        let script = directory + "/" + S3DriverScript.fileName
        try S3DriverScript.source.write(toFile: script, atomically: true, encoding: .utf8)
        let commands = Pipe()
        let replies = Pipe()
        child = try S3ChildProcess(name: "python driver", executable: python, arguments: ["-u", script],
                                   logPath: directory + "/driver.stderr", standardOutput: replies,
                                   standardInput: commands, gracePeriod: 5)
        input = commands.fileHandleForWriting
        output = replies.fileHandleForReading.fileDescriptor
        // Our copies of the child's ends must go, or a dead driver would never give us EOF.
        try? commands.fileHandleForReading.close()
        try? replies.fileHandleForWriting.close()
    }

    /// Sends one command and waits for its reply; a reply with ok=false throws S3DriverFailure.
    @discardableResult
    func send(_ command: S3DriverCommand) throws -> S3DriverReply {
        var line = try encoder.encode(command)
        line.append(UInt8(ascii: "\n"))
        do {
            try input.write(contentsOf: line)
        } catch {
            throw BenchError.setup("the Python driver is gone (\(error)):\n\(child.logTail())")
        }
        let reply = try decoder.decode(S3DriverReply.self, from: Data(try readLine()))
        guard reply.ok else { throw S3DriverFailure(description: reply.error ?? "unknown driver error") }
        return reply
    }

    private func readLine() throws -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                return line
            }
            let count = read(output, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                throw BenchError.setup("the Python driver exited without a reply:\n\(child.logTail())")
            }
            pending.append(contentsOf: chunk[..<count])
        }
    }

    /// Closes its stdin (it exits at EOF), then stops it by PID if it lingers.
    func close() {
        try? input.close()
        let deadline = Date().addingTimeInterval(5)
        while child.isRunning && Date() < deadline { usleep(20_000) }
        child.stop()
    }
}
