import ArgumentParser
import Foundation
import S3Server
import Vault

/// `shardvault serve --s3 HOST:PORT [--allow-remote] [--s3-domain D] [--password-file F] VOLUME...`
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Unlock the vault and serve it over S3 (no FUSE mount).",
        discussion: """
            Buckets are the vault's top-level directories, keys the paths below them (docs/S3.md). \
            Requests are signed with the vault's S3 key pair (see `shardvault s3-keys show`; made on first use), \
            or with $\(S3CredentialStore.accessKeyVariable) / $\(S3CredentialStore.secretKeyVariable) when both are set, \
            or with one of the vault's read-only pairs (`s3-keys add-readonly`), which may only read. \
            Path-style requests (http://HOST:PORT/BUCKET/KEY) always work; with --s3-domain (or \
            $\(S3Domains.environmentVariable)) a request for BUCKET.DOMAIN is virtual-host style. \
            Port 0 picks a free port. Once listening, prints "s3 endpoint: http://HOST:PORT" on stdout. \
            SIGTERM or SIGINT finish the requests under way and close the vault.
            """)

    @Option(help: ArgumentHelp("Listen on this address (e.g. 127.0.0.1:9000, [::1]:9000).", valueName: "host:port"))
    var s3: String

    @Flag(help: "Allow listening on an address other than loopback (requests are signed, but travel unencrypted).")
    var allowRemote = false

    @Option(name: .customLong("s3-domain"),
            help: ArgumentHelp("Serve virtual-host-style requests for BUCKET.DOMAIN (repeatable or comma-separated; default: $\(S3Domains.environmentVariable), else path style only).",
                               valueName: "domain"))
    var s3Domains: [String] = []

    @Option(help: ArgumentHelp("Read the password from this file.", valueName: "file"))
    var passwordFile: String?

    @OptionGroup var pool: VolumeArguments

    func run() throws {
        let address = try S3ListenAddress(parsing: s3, option: "--s3")
        try address.requireLoopback(unless: allowRemote, optIn: "--allow-remote")
        var configuration = address.configuration
        configuration.addressing = try S3Domains.addressing(given: s3Domains, option: "--s3-domain")
        let password = try Passwords.existing(file: passwordFile)
        let vault = try Vault(volumePaths: pool.volumes, password: password)
        vault.recoveryNotes.forEach(Output.note)
        let credentials: [S3Credentials]
        do {
            credentials = try S3Credentials.forDaemon(serving: vault)
        } catch {
            try? vault.close()
            throw error
        }
        if let reason = vault.readOnlyReason { Output.note("serving read-only: \(reason)") }
        let server = S3Server(vault: vault, credentials: credentials, configuration: configuration)
        let outcome = ServeOutcome()
        let finished = DispatchSemaphore(value: 0)
        Task {
            do {
                try await server.run { host, port in
                    print(S3ListenAddress.endpointLine(host: host, port: port))
                    fflush(nil)  // all streams: stdout is a pipe or file under a supervisor
                }
            } catch {
                outcome.set(error)
            }
            finished.signal()
        }
        finished.wait()
        try vault.close()
        if let error = outcome.error { throw CLIFailure.failed("the S3 server stopped: \(error)") }
    }
}

/// The server task's failure, handed to the waiting command thread.
private final class ServeOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?

    var error: (any Error)? {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    func set(_ error: any Error) {
        lock.lock()
        stored = error
        lock.unlock()
    }
}
