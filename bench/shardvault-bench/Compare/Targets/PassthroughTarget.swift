import Foundation

/// libfuse's own `passthrough_ll` example over a plain directory: the cheapest filesystem a
/// libfuse 3 daemon can be (no encryption, no redundancy, every request forwarded to the disk
/// in C), so its ratios to `native` are the floor FUSE itself sets on this machine — what is
/// left of a phase's cost when the filesystem does nothing. Not one of the peers (`all` leaves
/// it out); name it in --targets.
///
/// Mounted with the writeback cache, as ShardVault is, and libfuse's multithreaded loop.
/// Compiled at start from the example libfuse3-dev ships, with the system's C compiler. It
/// holds a descriptor for every inode the kernel knows, so the full tree needs an open-file
/// limit above ~50,000; where the hard limit is lower (20,000 in the project's containers,
/// without CAP_SYS_RESOURCE) use `--scale medium`.
final class PassthroughTarget: BenchTarget {
    let name = "passthrough"
    static let source = "/usr/share/doc/libfuse3-dev/examples/passthrough_ll.c"

    func unavailableReason() -> String? {
        if access(Self.source, R_OK) != 0 { return "\(Self.source) missing (apt install libfuse3-dev)" }
        if Command.find("cc") == nil { return "no C compiler (cc) to build libfuse's passthrough_ll example" }
        return TargetSupport.fuseUnavailableReason(tool: "pkg-config", install: "apt install pkg-config")
    }

    func describe() -> String {
        let version = TargetSupport.debianVersion("libfuse3-dev").map { "libfuse \($0)" } ?? "libfuse (version unknown)"
        return "\(version) example passthrough_ll (C, no encryption), -o writeback, default cache (1 s timeouts), multithreaded"
    }

    func start(root: String) throws -> TargetInstance {
        let source = root + "/source"
        let mountPoint = root + "/mnt"
        let binary = root + "/passthrough_ll"
        let log = root + "/passthrough.log"
        try TargetSupport.makeDirectories(source, mountPoint)
        guard let flags = Command.output("pkg-config", ["--cflags", "--libs", "fuse3"]) else {
            throw BenchError.setup("pkg-config knows no fuse3 (apt install libfuse3-dev)")
        }
        let headers = (Self.source as NSString).deletingLastPathComponent
        try Command.run("cc", ["-O2", "-I", headers, "-o", binary, Self.source]
            + flags.split(whereSeparator: \.isWhitespace).map(String.init), log: log)
        // passthrough_ll keeps a descriptor open for every inode the kernel knows, more than
        // the default 1024 for a kernel tree; exec keeps the pid the bench stops.
        return try TargetSupport.mountedInstance {
            try FuseDaemon("/bin/sh", ["-c", "ulimit -n \"$(ulimit -H -n)\" && exec \"$0\" \"$@\"", binary,
                                       "-f", "-o", "writeback,source=" + source, mountPoint],
                           mountPoint: mountPoint, logPath: log)
        }
    }
}
