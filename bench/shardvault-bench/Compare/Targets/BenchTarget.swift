import Foundation

/// A filesystem the workloads can be run against: ShardVault, a peer (gocryptfs, securefs, CryFS,
/// JuiceFS), or a plain directory. One `BenchTarget` describes how to make instances; every
/// iteration gets a fresh one (`start`), so no run inherits another's state, and tears it down.
protocol BenchTarget: AnyObject {
    /// Name on the command line and in results ("gocryptfs").
    var name: String { get }
    /// nil when the target can run here; otherwise a one-line reason to skip it.
    func unavailableReason() -> String?
    /// What exactly runs: version and the options that matter (for the report).
    func describe() -> String
    /// Creates a fresh, empty instance whose private files live under `root` (an empty
    /// directory on the measured disk) and mounts it. The returned instance is live until `stop`.
    func start(root: String) throws -> TargetInstance
}

/// A created and mounted target. `directory` is an empty directory inside it where a workload
/// runs (a subdirectory of the mount, so virtual entries such as JuiceFS's `.trash` stay out of
/// the way). The instance's files live in a `ScratchDirectory` the runner owns and removes after
/// `stop`.
class TargetInstance {
    let directory: String
    /// The FUSE daemon serving `directory`, nil for plain directories.
    private(set) var daemon: FuseDaemon?
    /// Mounts the same instance again (same files, same options): what `remount` calls.
    private let mountAgain: (() throws -> FuseDaemon)?

    init(directory: String, daemon: FuseDaemon?, mountAgain: (() throws -> FuseDaemon)? = nil) {
        self.directory = directory
        self.daemon = daemon
        self.mountAgain = mountAgain
    }

    var isFuse: Bool { daemon != nil }

    /// Unmounts and mounts the instance again, so nothing of the daemon's caches survives (the
    /// `coldstart` workload). Plain directories have no daemon: their page cache is dropped instead.
    func remount() throws {
        guard let daemon, let mountAgain else {
            sync()
            try PageCache.drop()
            return
        }
        if let problem = daemon.stop() { throw BenchError.setup("remount: \(problem)") }
        self.daemon = nil
        self.daemon = try mountAgain()
    }

    /// Unmounts (when mounted). Returns a teardown problem worth reporting (an unmount that
    /// needed force), or nil.
    @discardableResult
    func stop() -> String? { daemon?.stop() }
}

/// Helpers shared by the target implementations.
enum TargetSupport {
    /// The password every peer is created with. A benchmark secret, written to files under the
    /// target's root; it protects nothing.
    static let password = "shardvault-bench-password"

    static func makeDirectories(_ paths: String...) throws {
        for path in paths { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    }

    /// Writes `text` to `path` readable by the owner only.
    static func writeSecret(_ text: String, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw BenchError.setup("cannot write \(path)")
        }
    }

    /// Mounts with `mount` and returns the instance, working in a new `work` directory inside the
    /// mount; unmounts again when that directory cannot be made. `mount` is kept for `remount`.
    static func mountedInstance(_ mount: @escaping () throws -> FuseDaemon) throws -> TargetInstance {
        let daemon = try mount()
        let work = daemon.mountPoint + "/work"
        guard mkdir(work, 0o755) == 0 else {
            let error = BenchError.io("mkdir \(work)", errno)
            daemon.stop()
            throw error
        }
        return TargetInstance(directory: work, daemon: daemon, mountAgain: mount)
    }

    /// Why a FUSE target cannot run here, when `tool` or FUSE itself is missing.
    static func fuseUnavailableReason(tool: String, install: String) -> String? {
        if Command.find(tool) == nil { return "\(tool) not installed (\(install))" }
        if Command.find("fusermount3") == nil { return "fusermount3 not installed (apt install fuse3)" }
        if access("/dev/fuse", R_OK | W_OK) != 0 { return "/dev/fuse is not usable" }
        return nil
    }

    /// First line of a command's output, for version strings.
    static func firstLine(_ executable: String, _ arguments: [String]) -> String? {
        Command.output(executable, arguments)?.split(separator: "\n").first.map {
            $0.trimmingCharacters(in: .whitespaces)
        }
    }

    /// The installed Debian package version, when the tool came from apt.
    static func debianVersion(_ package: String) -> String? {
        guard let version = Command.output("dpkg-query", ["-W", "-f=${Version}", package]), !version.isEmpty else {
            return nil
        }
        return version
    }
}

/// `--targets` entries: the built-in names (`all`), `passthrough` (libfuse's example, the
/// FUSE floor), `shardvault:OPT+OPT` for ShardVault with mount options, and `path:/some/dir`
/// for any directory (an existing mount of something else, another
/// disk).
enum TargetCatalog {
    static let builtInNames = ["shardvault", "native", "gocryptfs", "securefs", "cryfs", "juicefs"]

    static func make(_ spec: String, shardvaultBinary: String?, shardvaultMountOptions: [String]) throws -> BenchTarget {
        switch spec {
        case "shardvault": return ShardVaultTarget(binary: shardvaultBinary, mountOptions: shardvaultMountOptions)
        case "native": return NativeTarget()
        case "gocryptfs": return GocryptfsTarget()
        case "securefs": return SecurefsTarget()
        case "cryfs": return CryfsTarget()
        case "juicefs": return JuicefsTarget()
        case "passthrough": return PassthroughTarget()
        default:
            if spec.hasPrefix("shardvault:") {
                let variant = spec.dropFirst("shardvault:".count).split(separator: "+").map(String.init)
                guard !variant.isEmpty else { throw BenchError.setup("\(spec): name mount options after the colon") }
                return ShardVaultTarget(binary: shardvaultBinary, mountOptions: shardvaultMountOptions, variant: variant)
            }
            if spec.hasPrefix("path:") {
                let path = String(spec.dropFirst("path:".count))
                guard path.hasPrefix("/") else { throw BenchError.setup("\(spec): the path must be absolute") }
                return PathTarget(path: path)
            }
            throw BenchError.setup("unknown target \(spec) (known: \(builtInNames.joined(separator: ", ")), passthrough, "
                + "shardvault:OPT+OPT, path:/dir)")
        }
    }
}
