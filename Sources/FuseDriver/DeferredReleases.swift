import CLinuxShims
import Foundation
import Vault

/// Runs the vault's side of RELEASE (the last close of a small file) on one thread of its own,
/// after the kernel has had its reply (`FastPaths.defersReleases`).
///
/// Why: RELEASE is asynchronous for the closing process, but its request lands on the ring
/// queue of the process's CPU, so the release — handing the file's buffered bytes to a seal
/// worker, waking it — ran beside `tar` on `tar`'s CPU between two of its synchronous
/// requests: about 1.2 s of an 8 s untar. Here the ring worker only queues it. The thread
/// takes what is queued in batches and, while busy, looks again every millisecond instead of
/// being woken per file (a wake-up across CPUs is an IPI on this kind of VM).
///
/// What must not change, and how it is kept:
/// - durability: fsync, fsyncdir and the unmount `drain()` first, so whatever they promised
///   about files closed before them (their write-backs are waited for) still holds;
/// - memory: only files of at most `largestDeferredFile` bytes are deferred, and at most
///   `maximumPending` at once; a closer past that waits, as it waited for a write-back slot;
/// - visibility: until its release runs, a file just stays open in the vault's table, whose
///   readers (FUSE and S3) see its buffered bytes, as with any open file.
final class DeferredReleases: @unchecked Sendable {
    static let maximumPending = 64
    static let largestDeferredFile: UInt64 = 1 << 20
    /// How long the thread waits between batches while releases keep coming.
    static let batchInterval: useconds_t = 1000

    /// `FastPaths.batchScheduling`: the thread runs SCHED_BATCH.
    private let batchScheduling: Bool
    private let condition = NSCondition()
    private var pending: [@Sendable () -> Void] = []
    /// The thread is blocked waiting for work (and must be woken for new work).
    private var idle = false
    /// The thread is running a batch taken off `pending`.
    private var running = false
    private var stopping = false
    private var stopped = false

    init(batchScheduling: Bool) {
        self.batchScheduling = batchScheduling
    }

    /// Starts the thread; the session loop must not start before.
    func start() {
        let thread = Thread { [self] in
            _ = shardvault_name_this_thread("sv-release")
            run()
        }
        thread.start()
    }

    /// Queues `release`; waits while `maximumPending` are queued already.
    func add(_ release: @escaping @Sendable () -> Void) {
        condition.lock()
        while pending.count >= Self.maximumPending && !stopping { condition.wait() }
        if stopping {
            condition.unlock()
            release()
            return
        }
        pending.append(release)
        if idle { condition.broadcast() }
        condition.unlock()
    }

    /// Returns once every release queued before the call has run.
    func drain() {
        condition.lock()
        defer { condition.unlock() }
        while !pending.isEmpty || running { condition.wait() }
    }

    /// Runs what is queued and ends the thread; later releases run on their caller.
    func stop() {
        condition.lock()
        defer { condition.unlock() }
        stopping = true
        condition.broadcast()
        while !stopped { condition.wait() }
    }

    private func run() {
        // Started from a pinned thread, we would run beside the closers we are here to spare.
        _ = shardvault_unpin_thread_once()
        if batchScheduling { _ = shardvault_use_batch_scheduling() }
        condition.lock()
        while true {
            if pending.isEmpty {
                if stopping { break }
                idle = true
                condition.wait()
                idle = false
                continue
            }
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            running = true
            condition.broadcast()  // closers waiting for room
            condition.unlock()
            for release in batch { release() }
            condition.lock()
            running = false
            condition.broadcast()  // drains
            if !stopping {
                condition.unlock()
                usleep(Self.batchInterval)
                condition.lock()
            }
        }
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
