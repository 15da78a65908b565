import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals
import Synchronization
import Vault

/// Where and how the S3 door listens.
public struct S3ServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port; `run` reports the one bound.
    public var port: Int
    /// Threads that run blocking vault calls.
    public var vaultThreads = 4
    /// Threads on which requests wait for their change to be durable (`DurabilityWaiters`):
    /// as many requests as this can share one journal commit.
    public var durabilityWaitThreads = 64
    /// Incomplete multipart uploads older than this are removed at start-up (seconds).
    public var multipartMaximumAge: Int64 = 7 * 24 * 3600
    /// Connections idle this long are closed.
    public var idleTimeoutSeconds: Int64 = 300
    /// Refuse every request that would change the vault (AccessDenied), as a read-only mount does.
    public var readOnly = false
    /// Base domains for virtual-host-style requests (`Host: BUCKET.DOMAIN`); path style only
    /// by default.
    public var addressing = BucketAddressing.pathStyleOnly

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

/// The S3 door over an open vault (docs/S3.md). The host owns the vault: it opens it before
/// and closes it after `run`, so the same vault can be served by the FUSE door at once, and
/// `observer` hears what the S3 door changed (to invalidate the mount's kernel caches).
///
/// `run` serves until `shutdown()` is called or, when asked to, until SIGTERM/SIGINT; either
/// way the requests under way finish first.
public final class S3Server: Sendable {
    let service: S3Service
    let executor: VaultExecutor
    let durabilityWaiters: DurabilityWaiters
    let configuration: S3ServerConfiguration
    private let lifecycle = Mutex(Lifecycle.notStarted(shutdownRequested: false))

    /// The root directory holding uploads in progress and multipart parts. Not a bucket; a
    /// FUSE mount of the same vault hides it (docs/S3.md, "The work area and the mount").
    public static let workAreaName = ObjectStore.workAreaName

    private enum Lifecycle {
        case notStarted(shutdownRequested: Bool)
        case running(ServiceGroup)
        case finished
    }

    /// `credentials`: every key pair accepted; those whose `access` is `.readOnly` may only read.
    public init(vault: Vault, credentials: [S3Credentials], configuration: S3ServerConfiguration,
                observer: (any VaultChangeObserver)? = nil) {
        self.configuration = configuration
        executor = VaultExecutor(threadCount: configuration.vaultThreads)
        durabilityWaiters = DurabilityWaiters(threadCount: configuration.durabilityWaitThreads)
        service = S3Service(vault: vault, credentials: credentials, executor: executor, durabilityWaiters: durabilityWaiters,
                            multipartMaximumAge: configuration.multipartMaximumAge, readOnly: configuration.readOnly,
                            addressing: configuration.addressing, observer: observer)
    }

    /// Serves until SIGTERM or SIGINT (or `shutdown()`), then finishes the requests under way
    /// and returns: `shardvault serve`, where the S3 door is the whole daemon.
    public func run(onListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void = { _, _ in }) async throws {
        try await run(stoppingOn: [.sigterm, .sigint], onListening: onListening)
    }

    /// Serves until `shutdown()`, handling no signals: for a host that has its own
    /// (the mount daemon, whose signal watcher unmounts first). `onListening` gets the address
    /// and port once the socket is bound; a failure to bind is thrown.
    public func runUntilShutdown(onListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void = { _, _ in }) async throws {
        try await run(stoppingOn: [], onListening: onListening)
    }

    /// Asks `run` to stop: no new connections, requests under way finish, then `run` returns.
    /// May be called before `run` has started (it then returns at once) and more than once.
    public func shutdown() async {
        let group: ServiceGroup? = lifecycle.withLock { state in
            switch state {
            case .notStarted: state = .notStarted(shutdownRequested: true); return nil
            case .running(let group): return group
            case .finished: return nil
            }
        }
        await group?.triggerGracefulShutdown()
    }

    private func run(stoppingOn signals: [UnixSignal], onListening: @escaping @Sendable (String, Int) -> Void) async throws {
        defer { lifecycle.withLock { $0 = .finished } }
        let service = service
        let group = ServiceGroup(configuration: .init(services: [makeApplication(onListening: onListening)],
                                                      gracefulShutdownSignals: signals, logger: Self.logger))
        let stopAtOnce: Bool = lifecycle.withLock { state in
            guard case .notStarted(let requested) = state else { return true }
            state = .running(group)
            return requested
        }
        if stopAtOnce {
            await executor.shutdown()
            await durabilityWaiters.shutdown()
            return
        }
        do {
            try await executor.run { service.removeLeftovers() }
            try await group.run()
        } catch {
            await executor.shutdown()
            await durabilityWaiters.shutdown()
            throw error
        }
        await executor.shutdown()
        await durabilityWaiters.shutdown()
    }

    private func makeApplication(onListening: @escaping @Sendable (String, Int) -> Void) -> some Service {
        let http = HTTP1Channel.Configuration(additionalChannelHandlers: [ReceiveBufferSizing(), ExpectContinueHandler()],
                                              idleTimeout: .seconds(configuration.idleTimeoutSeconds))
        let host = configuration.host
        return Application(
            responder: S3Responder(service: service),
            server: .http1(configuration: http),
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "ShardVault"),
            onServerRunning: { channel in onListening(host, channel.localAddress?.port ?? 0) },
            logger: Self.logger)
    }

    private static let logger: Logger = {
        var logger = Logger(label: "shardvault.s3")
        logger.logLevel = ProcessInfo.processInfo.environment["SHARDVAULT_S3_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .warning
        return logger
    }()
}

extension S3Service {
    /// Temporary files of uploads a crash interrupted, and stale multipart uploads.
    func removeLeftovers() {
        store.removeStaleTemporaryFiles()
        multipart.removeUploads(olderThan: multipartMaximumAge)
    }
}
