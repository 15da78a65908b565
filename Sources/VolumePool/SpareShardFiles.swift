import Glibc
import Synchronization

/// Emptied shard files a local volume keeps to reuse for new shards, so that removing one
/// shard and writing another moves an inode instead of freeing one and allocating another.
///
/// Why: on ext4 every new file costs an inode allocation, and on a filesystem without a
/// journal the allocator scans past every recently freed inode of the group (`recently_deleted`
/// in fs/ext4/ialloc.c) — a stream write after a delete spent a third of the daemon's CPU
/// there. A spare is truncated to zero bytes when it is put aside (the disk space is free at
/// once) and lives in `spare/` under a random name; it is never read. Spares left by a previous
/// process are picked up again when the volume opens. At most `limit` are kept; beyond that a
/// removed shard is unlinked as before.
final class SpareShardFiles: Sendable {
    private struct State {
        var paths: [String]
        /// Files being put aside right now, counted against the limit.
        var arriving = 0
    }

    private let directory: String
    private let limit: Int
    private let state: Mutex<State>

    init(directory: String, limit: Int = 1024) {
        self.directory = directory
        self.limit = limit
        state = Mutex(State(paths: Self.existingSpares(in: directory, limit: limit)))
    }

    /// Empties the file at `path` and keeps it as a spare. False (nothing changed, or the file
    /// is gone) when the list is full or the filesystem refused: the caller unlinks.
    func keep(_ path: String) -> Bool {
        let reserved = state.withLock { state -> Bool in
            guard state.paths.count + state.arriving < limit else { return false }
            state.arriving += 1
            return true
        }
        guard reserved else { return false }
        let spare = directory + "/" + ObjectID.random().hex
        // Truncate first: a spare must not hold disk space.
        let kept = truncate(path, 0) == 0 && rename(path, spare) == 0
        state.withLock { state in
            state.arriving -= 1
            if kept { state.paths.append(spare) }
        }
        return kept
    }

    /// Moves a spare (an empty file) to `path`; false when there is none, and the caller
    /// creates the file as usual.
    func reuse(as path: String) -> Bool {
        while let spare = state.withLock({ $0.paths.popLast() }) {
            if rename(spare, path) == 0 { return true }
            // A spare that vanished (removed by hand) is forgotten; try the next one.
        }
        return false
    }

    var count: Int { state.withLock { $0.paths.count } }

    /// Spares a previous process left: kept (emptied again, in case) up to the limit.
    private static func existingSpares(in directory: String, limit: Int) -> [String] {
        var found: [String] = []
        try? FileOperations.forEachEntry(in: directory) { name in
            let path = directory + "/" + name
            if found.count < limit && truncate(path, 0) == 0 { found.append(path) } else { unlink(path) }
        }
        return found
    }
}
