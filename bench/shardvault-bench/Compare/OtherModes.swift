import Foundation

/// `compare --suite s3|micro|all`: the other modes run as children of this same binary
/// (`shardvault-bench s3 …`, `shardvault-bench micro …`), one after the other, each in its own
/// process — micro measures checksums before any ISA-L call in the process, and each mode
/// installs its own signal handling. Options that mean the same thing are passed on; the JSON
/// and Markdown files get a `-s3` / `-micro` suffix before their extension.
struct OtherModeRun {
    var mode: String
    var quick: Bool
    var samples: Int?
    var noCold: Bool
    var dir: String?
    var keep: Bool
    var json: String?
    var markdown: String?
    var shardvault: String?

    /// "bench/results/all.json" with "-s3" → "bench/results/all-s3.json".
    static func suffixed(_ path: String, _ suffix: String) -> String {
        let url = URL(fileURLWithPath: path)
        let name = url.lastPathComponent
        let directory = path.contains("/") ? String(path[..<path.index(path.endIndex, offsetBy: -name.count)]) : ""
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return directory + name + suffix }
        return directory + name[..<dot] + suffix + name[dot...]
    }

    /// The child's command line, after the executable.
    var arguments: [String] {
        var arguments = [mode]
        if quick { arguments.append("--quick") }
        if let samples { arguments += ["--samples", String(samples)] }
        if noCold { arguments.append("--no-cold") }
        if let dir { arguments += ["--dir", dir] }
        if keep { arguments.append("--keep") }
        if let json { arguments += ["--json", Self.suffixed(json, "-" + mode)] }
        // Only s3 writes Markdown and starts a shardvault of its own.
        if mode == "s3", let markdown { arguments += ["--markdown", Self.suffixed(markdown, "-" + mode)] }
        if mode == "s3", let shardvault { arguments += ["--shardvault", shardvault] }
        return arguments
    }

    /// Runs the child on this terminal (stdout and stderr inherited, default signal dispositions);
    /// returns its exit status. Ctrl-C reaches it directly (same process group); compare's own
    /// interrupt cleanup also signals it and waits for it to clean up.
    func run() throws -> Int32 {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        print("")
        print("== shardvault-bench \(arguments.joined(separator: " "))")
        fflush(nil)
        let (child, _) = try ChildProcess.spawn(executable, arguments, stdout: .inherit, stderr: .inherit)
        let cleanup = CleanupRegistry.shared.register("stop shardvault-bench \(mode) (pid \(child.pid))") {
            child.signal(SIGINT)
            _ = child.wait(seconds: 120)
        }
        let termination = child.wait()
        CleanupRegistry.shared.forget(cleanup)
        switch termination {
        case let .exited(status): return status
        case let .signalled(signal): return 128 + signal
        }
    }
}
