import NIOPosix

/// Runs blocking vault calls on a thread pool of their own, never on the event loops nor on
/// Swift's cooperative threads (a vault call can wait for disks or for a journal commit).
final class VaultExecutor: Sendable {
    private let threads: NIOThreadPool

    init(threadCount: Int) {
        threads = NIOThreadPool(numberOfThreads: max(1, threadCount))
        threads.start()
    }

    func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await threads.runIfActive(body)
    }

    func shutdown() async {
        try? await threads.shutdownGracefully()
    }
}
