import Foundation

/// The disk itself: a plain directory next to where the other targets keep their files. Every
/// ratio "vs native" is against this.
final class NativeTarget: BenchTarget {
    let name = "native"

    func unavailableReason() -> String? { nil }

    func describe() -> String { "a plain directory on the measured disk (no FUSE, no encryption)" }

    func start(root: String) throws -> TargetInstance {
        let work = root + "/work"
        try TargetSupport.makeDirectories(work)
        return TargetInstance(directory: work, daemon: nil)
    }
}

/// `path:/some/dir`: any directory — an existing mount of another filesystem, another disk. The
/// workload runs in a fresh subdirectory of it, removed afterwards; the directory itself is not
/// created, mounted or unmounted by the bench.
final class PathTarget: BenchTarget {
    let path: String
    var name: String { "path:" + path }

    init(path: String) { self.path = path }

    func unavailableReason() -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return "\(path) is not a directory"
        }
        return access(path, W_OK) == 0 ? nil : "\(path) is not writable"
    }

    func describe() -> String { "an existing directory: \(HostInfo.filesystemType(path))" }

    func start(root: String) throws -> TargetInstance {
        // The work directory lives on `path`; `root` (on the scratch disk) only holds logs. The
        // ScratchDirectory made here removes the work directory after `stop`, like any root.
        let scratch = try ScratchDirectory(under: path, prefix: "shardvault-bench-path")
        return PathInstance(directory: scratch)
    }
}

/// A `path:` target's instance: nothing to unmount, its work directory is removed at `stop`.
final class PathInstance: TargetInstance {
    private let scratch: ScratchDirectory

    init(directory scratch: ScratchDirectory) {
        self.scratch = scratch
        super.init(directory: scratch.path, daemon: nil)
    }

    override func stop() -> String? {
        scratch.finish(keep: false)
        return nil
    }
}
