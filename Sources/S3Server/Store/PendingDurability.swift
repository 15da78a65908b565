import NIOPosix
import Vault

/// A change made to the vault that is not yet durable. Whoever answers the client must wait
/// for it first (invariant I4), either right where it is (`waitHere`, on a vault thread) or,
/// for the hot paths (PUT, UploadPart, DELETE), through `DurabilityWaiters`, so the wait does
/// not hold one of the few vault threads.
struct PendingDurability: Sendable {
    let vault: Vault

    init(_ vault: Vault) { self.vault = vault }

    /// Blocks until every change made so far is durable on a quorum of volumes.
    func waitHere() throws(S3Error) {
        do {
            try vault.sync()
        } catch {
            throw S3Error(error)
        }
    }
}

/// Threads that do nothing but wait in `Vault.sync()` for requests whose change is made.
///
/// Why: a sync waits for the journal's next group commit (a disk flush or two). On the vault
/// threads (4 by default) at most four requests could wait at once, and every other request —
/// the next PUT's earlier steps, GETs, HEADs — queued behind them, so 16 concurrent clients
/// committed four PUTs per flush. Here as many requests as there are threads wait for the same
/// commit, which the journal makes for all of them at once. The threads are idle while they
/// wait; they cost stacks, not CPU.
final class DurabilityWaiters: Sendable {
    private let threads: NIOThreadPool

    init(threadCount: Int) {
        threads = NIOThreadPool(numberOfThreads: max(1, threadCount))
        threads.start()
    }

    func wait(for change: PendingDurability) async throws {
        try await threads.runIfActive { try change.waitHere() }
    }

    func shutdown() async {
        try? await threads.shutdownGracefully()
    }
}
