import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Vault

/// Where and how the S3 door listens.
public struct S3ServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port; `run` reports the one bound.
    public var port: Int
    /// Threads that run blocking vault calls.
    public var vaultThreads = 4
    /// Incomplete multipart uploads older than this are removed at start-up (seconds).
    public var multipartMaximumAge: Int64 = 7 * 24 * 3600
    /// Connections idle this long are closed.
    public var idleTimeoutSeconds: Int64 = 300

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

/// The S3 door over an open vault (docs/S3.md). The host owns the vault: it opens it before
/// and closes it after `run`, so the same vault can be served by the FUSE door at once, and
/// `onChange` tells the host what the S3 door changed (to invalidate kernel caches).
public final class S3Server: Sendable {
    let service: S3Service
    let executor: VaultExecutor
    let configuration: S3ServerConfiguration

    public init(vault: Vault, credentials: [S3Credentials], configuration: S3ServerConfiguration,
                onChange: @escaping VaultChangeHandler = { _ in }) {
        self.configuration = configuration
        executor = VaultExecutor(threadCount: configuration.vaultThreads)
        service = S3Service(vault: vault, credentials: credentials, executor: executor,
                            multipartMaximumAge: configuration.multipartMaximumAge, onChange: onChange)
    }

    /// Serves until SIGTERM or SIGINT, then finishes the requests under way and returns.
    /// `onListening` gets the address and port once the socket is bound.
    public func run(onListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void = { _, _ in }) async throws {
        let service = service
        try await executor.run { service.removeLeftovers() }
        var logger = Logger(label: "shardvault.s3")
        logger.logLevel = ProcessInfo.processInfo.environment["SHARDVAULT_S3_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .warning
        let http = HTTP1Channel.Configuration(additionalChannelHandlers: [ExpectContinueHandler()],
                                              idleTimeout: .seconds(configuration.idleTimeoutSeconds))
        let host = configuration.host
        let application = Application(
            responder: S3Responder(service: service),
            server: .http1(configuration: http),
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "ShardVault"),
            onServerRunning: { channel in onListening(host, channel.localAddress?.port ?? 0) },
            logger: logger)
        do {
            try await application.runService()  // SIGTERM and SIGINT shut down gracefully
        } catch {
            await executor.shutdown()
            throw error
        }
        await executor.shutdown()
    }
}

extension S3Service {
    /// Temporary files of uploads a crash interrupted, and stale multipart uploads.
    func removeLeftovers() {
        store.removeStaleTemporaryFiles()
        multipart.removeUploads(olderThan: multipartMaximumAge)
    }
}
