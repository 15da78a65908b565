import NIOPosix
import Synchronization

/// Runs blocking vault calls on a thread pool of their own, never on the event loops nor on
/// Swift's cooperative threads (a vault call can wait for disks or for a journal commit).
final class VaultExecutor: Sendable {
    private let threads: NIOThreadPool
    private let trips = Atomic<Int>(0)

    init(threadCount: Int) {
        threads = NIOThreadPool(numberOfThreads: max(1, threadCount))
        threads.start()
    }

    func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        trips.add(1, ordering: .relaxed)
        return try await threads.runIfActive(body)
    }

    /// Calls run so far. Each is a hop to a vault thread and back (two thread wake-ups), the
    /// main per-request cost of small requests; tests count them.
    var tripCount: Int { trips.load(ordering: .relaxed) }

    func shutdown() async {
        try? await threads.shutdownGracefully()
    }
}
