import Dispatch
import Foundation
import FuseDriver
import Glibc
import S3Server
import Synchronization
import Vault

/// The S3 door of a mount daemon (`mount -o s3=ADDR`): the same in-process vault as the FUSE
/// door (DESIGN.md I5, docs/S3.md "One daemon, two doors").
///
/// It starts before the FUSE session, so a port already in use is reported — like a wrong
/// password — before anything is mounted (in the background: before the command returns).
/// Its changes reach the kernel through the mount's KernelCacheNotifier. The mount's signal
/// watcher owns SIGTERM/SIGINT/SIGHUP (it unmounts first, so the kernel writes back), so the
/// server handles no signals: the command calls `stop()` once the FUSE session has ended,
/// and closes the vault after that. If the server fails while mounted, the door ends the mount
/// the way a signal would, and the command exits with the failure.
final class MountS3Door: Sendable {
    private let server: S3Server
    private let state = Mutex(State())
    /// Signalled once when the server listens or has ended, whichever comes first.
    private let started = DispatchSemaphore(value: 0)
    /// Signalled when `run` has returned.
    private let ended = DispatchSemaphore(value: 0)

    private struct State {
        var listening = false
        var stopping = false
        var failure: String?
    }

    private init(server: S3Server) {
        self.server = server
    }

    /// Starts serving and returns once the socket is bound (having printed the endpoint line on
    /// stdout), or throws why it could not be.
    static func start(vault: Vault, address: S3ListenAddress, addressing: BucketAddressing, readOnly: Bool,
                      notifier: KernelCacheNotifier) throws(CLIFailure) -> MountS3Door {
        var configuration = address.configuration
        configuration.readOnly = readOnly
        configuration.addressing = addressing
        let server = S3Server(vault: vault, credentials: try S3Credentials.forDaemon(serving: vault),
                              configuration: configuration, observer: KernelCacheRelay(notifier: notifier))
        let door = MountS3Door(server: server)
        Task {
            do {
                try await server.runUntilShutdown { host, port in door.nowListening(host: host, port: port) }
                door.runEnded(nil)
            } catch {
                door.runEnded(error)
            }
        }
        door.started.wait()
        let (listening, failure) = door.state.withLock { ($0.listening, $0.failure) }
        guard listening else {
            door.ended.wait()
            throw CLIFailure.failed("cannot serve S3 on \(address.host):\(address.port): \(failure ?? "the server stopped")")
        }
        return door
    }

    /// Why the server stopped by itself while the mount was up (nil when it did not).
    var failure: String? {
        state.withLock { $0.listening ? $0.failure : nil }
    }

    /// Stops accepting, lets the requests under way finish (their changes still reach the
    /// kernel while the session lives), and returns when the server is done with the vault.
    func stop() {
        let alreadyEnded: Bool = state.withLock { state in
            defer { state.stopping = true }
            return state.stopping
        }
        if !alreadyEnded {
            let server = server
            Task { await server.shutdown() }
        }
        ended.wait()
        ended.signal()  // a second stop() returns at once
    }

    private func nowListening(host: String, port: Int) {
        print(S3ListenAddress.endpointLine(host: host, port: port))
        fflush(nil)  // stdout may be the background launcher's pipe, or a file
        state.withLock { $0.listening = true }
        started.signal()
    }

    private func runEnded(_ error: (any Error)?) {
        let (wasListening, unexpected): (Bool, Bool) = state.withLock { state in
            if let error { state.failure = "\(error)" }
            return (state.listening, !state.stopping)
        }
        if !wasListening { started.signal() }
        if wasListening && unexpected {
            Output.error("the S3 server stopped (\(error.map { "\($0)" } ?? "no error given")); unmounting")
            if error == nil { state.withLock { $0.failure = "it stopped without an error" } }
            // The mount's signal watcher unmounts, as for `kill -TERM`.
            kill(getpid(), SIGTERM)
        }
        ended.signal()
    }
}

/// Hands the S3 door's changes to the mount's notifier, which invalidates the kernel's caches
/// from a thread of its own (libfuse's deadlock rules).
struct KernelCacheRelay: VaultChangeObserver {
    let notifier: KernelCacheNotifier

    func vaultChanged(_ change: VaultChange) {
        switch change {
        case .entry(let parent, let name): notifier.entryChanged(parent: parent, name: name)
        case .removed(let parent, let name, let inode): notifier.entryRemoved(parent: parent, name: name, child: inode)
        case .inode(let inode): notifier.inodeChanged(inode)
        }
    }

    func changesApplied() async {
        await notifier.applied()
    }
}
