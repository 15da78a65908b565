import Foundation
import Testing

/// Runs the built `shardvault` executable as a subprocess, the way a user would.
enum CLI {
    struct Result {
        var status: Int32
        var stdout: Data
        var stderr: String
        var out: String { String(decoding: stdout, as: UTF8.self) }
        /// stdout and stderr together, for failure messages.
        var transcript: String { "exit \(status)\n--- stdout\n\(out)\n--- stderr\n\(stderr)" }
    }

    /// The executable: `$SHARDVAULT_BINARY`, else next to the test bundle (the products
    /// directory of whatever --scratch-path was used), else under the package's build dirs.
    static let binary: String = {
        let fileManager = FileManager.default
        if let explicit = ProcessInfo.processInfo.environment["SHARDVAULT_BINARY"] { return explicit }
        var candidates: [URL] = []
        for start in [Bundle.main.executableURL, URL(fileURLWithPath: CommandLine.arguments[0])].compactMap({ $0 }) {
            var directory = start.resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0 ..< 4 {  // products dir, or a few levels up from inside an .xctest bundle
                candidates.append(directory.appendingPathComponent("shardvault"))
                directory.deleteLastPathComponent()
            }
        }
        var root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while root.path != "/" && !fileManager.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root.deleteLastPathComponent()
        }
        let buildDirs = ((try? fileManager.contentsOfDirectory(atPath: root.path)) ?? [])
            .filter { $0.hasPrefix(".build") }.sorted()
        for dir in buildDirs { candidates.append(root.appendingPathComponent(dir).appendingPathComponent("debug/shardvault")) }
        return candidates.first { url in
            var isDirectory: ObjCBool = false
            return fileManager.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
                && fileManager.isExecutableFile(atPath: url.path)
        }?.path ?? "shardvault-not-built"
    }()

    /// Runs `shardvault arguments…`, stdin from `stdinFile` (else /dev/null), output captured in files.
    static func run(_ arguments: [String], stdinFile: String? = nil, in scratch: Scratch) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        return try capture(process, arguments: arguments, stdinFile: stdinFile, in: scratch)
    }

    /// Runs a prepared process with stdin from `stdinFile` (else /dev/null) and its output
    /// captured in files; expects it to exit rather than die of a signal.
    static func capture(_ process: Process, arguments: [String], stdinFile: String? = nil, in scratch: Scratch) throws -> Result {
        let outPath = scratch.path("stdout-\(UUID().uuidString)")
        let errPath = scratch.path("stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let inHandle = try FileHandle(forReadingFrom: URL(fileURLWithPath: stdinFile ?? "/dev/null"))
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = inHandle
        try process.run()
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        try inHandle.close()
        #expect(process.terminationReason == .exit,
                "shardvault \(arguments) was killed by signal \(process.terminationStatus)")
        return Result(status: process.terminationStatus,
                      stdout: try Data(contentsOf: URL(fileURLWithPath: outPath)),
                      stderr: try String(contentsOfFile: errPath, encoding: .utf8))
    }
}

/// A temporary directory for one test; call `remove()` in a `defer`.
struct Scratch {
    let root: String

    init() throws {
        var template = Array((URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("shardvault-cli-XXXXXX").path).utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw CocoaError(.fileWriteUnknown)
        }
        root = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func path(_ name: String) -> String { root + "/" + name }

    /// `count` volume paths `v0`, `v1`, … (not created: `pool create` does that).
    func volumes(_ count: Int, prefix: String = "v") -> [String] { (0 ..< count).map { path("\(prefix)\($0)") } }

    /// A file of `count` pseudo-random bytes; returns its path and contents.
    func randomFile(_ name: String, count: Int, seed: UInt64 = 1) throws -> (path: String, bytes: Data) {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        var bytes = [UInt8](repeating: 0, count: count)
        for i in 0 ..< count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes[i] = UInt8(truncatingIfNeeded: state >> 33)
        }
        let data = Data(bytes)
        try data.write(to: URL(fileURLWithPath: path(name)))
        return (path(name), data)
    }

    func removeVolume(_ path: String) throws { try FileManager.default.removeItem(atPath: path) }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

extension CLI.Result {
    /// The JSON object printed on stdout.
    func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: stdout) as? [String: Any] else {
            throw CocoaError(.propertyListReadCorrupt)
        }
        return object
    }
}
