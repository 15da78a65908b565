import Foundation
import VolumePool

/// Runs the background fetches of blocks a sequential reader will reach next, and keeps the
/// reader from fetching a block a second time while its prefetch is still running.
///
/// Why: a cold stream read did everything on the reading thread — wait for the volumes, copy
/// out of the page cache, verify and decrypt, reply — with the file locked, so one core
/// idled. Fetching the next blocks into the chunk cache on other threads while the reader
/// works through the current one overlaps the two halves (docs/FUSE.md, "Block prefetch").
final class BlockPrefetcher: @unchecked Sendable {
    private let queue = UnpinnedWorkQueue(label: "shardvault.prefetch")
    /// Guards `running`; signalled when a prefetch ends.
    private let condition = NSCondition()
    private var running: Set<ObjectID> = []

    /// Starts `fetch` for `block` on a background thread unless it is already running.
    func start(_ block: ObjectID, _ fetch: @escaping @Sendable () -> Void) {
        condition.lock()
        let fresh = running.insert(block).inserted
        condition.unlock()
        guard fresh else { return }
        queue.async { [self] in
            fetch()
            condition.lock()
            running.remove(block)
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Returns once no prefetch of `block` is running (at once, nearly always).
    func waitUntilFetched(_ block: ObjectID) {
        condition.lock()
        defer { condition.unlock() }
        while running.contains(block) { condition.wait() }
    }
}
