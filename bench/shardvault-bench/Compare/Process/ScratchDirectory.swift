import Foundation

/// A fresh directory on the measured disk that is removed when its owner is done with it, and on
/// Ctrl-C. Registered before anything is mounted inside it, so the newest-first cleanup order
/// unmounts first and removes afterwards.
final class ScratchDirectory {
    let path: String
    private var cleanupID: Int?

    /// Creates `base/prefix.XXXXXX`.
    init(under base: String, prefix: String) throws {
        path = try makeTemporaryDirectory(under: base, prefix: prefix)
        let path = self.path
        cleanupID = CleanupRegistry.shared.register("remove \(path)") { Self.remove(path) }
    }

    /// Removes the directory now, or only forgets it when `keep`.
    func finish(keep: Bool) {
        guard let id = cleanupID else { return }
        cleanupID = nil
        if keep {
            CleanupRegistry.shared.forget(id)
            print("kept \(path)")
        } else {
            CleanupRegistry.shared.run(id)
        }
    }

    /// Removes `path` unless something is still mounted below it: recursing into a live mount
    /// would delete the filesystem's contents through it (or fail on a dead one).
    static func remove(_ path: String) {
        if let mounted = FuseDaemon.mountPoints().first(where: { $0.hasPrefix(path + "/") }) {
            FileHandle.standardError.write(Data("not removing \(path): \(mounted) is still mounted\n".utf8))
            return
        }
        // rm -rf rather than FileManager: it carries on past entries that vanish meanwhile.
        if let remover = try? ChildProcess.spawn("rm", ["-rf", "--one-file-system", path]).0 {
            _ = remover.wait()
        }
    }
}
