import ArgumentParser
import Foundation
import S3Server
import Vault

/// `shardvault serve --s3 HOST:PORT [--allow-remote] [--password-file F] VOLUME...`
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Unlock the vault and serve it over S3 (no FUSE mount).",
        discussion: """
            Buckets are the vault's top-level directories, keys the paths below them (docs/S3.md). \
            Requests are signed with the vault's S3 key pair (see `shardvault s3-keys show`; made on first use), \
            or with $\(S3CredentialStore.accessKeyVariable) / $\(S3CredentialStore.secretKeyVariable) when both are set. \
            Port 0 picks a free port. Once listening, prints "s3 endpoint: http://HOST:PORT" on stdout. \
            SIGTERM or SIGINT finish the requests under way and close the vault.
            """)

    @Option(help: ArgumentHelp("Listen on this address (e.g. 127.0.0.1:9000, [::1]:9000).", valueName: "host:port"))
    var s3: String

    @Flag(help: "Allow listening on an address other than loopback (requests are signed, but travel unencrypted).")
    var allowRemote = false

    @Option(help: ArgumentHelp("Read the password from this file.", valueName: "file"))
    var passwordFile: String?

    @OptionGroup var pool: VolumeArguments

    func run() throws {
        let (host, port) = try Self.parseAddress(s3)
        guard allowRemote || Self.isLoopback(host) else {
            throw CLIFailure.usage("\(host) is not a loopback address; pass --allow-remote to serve S3 beyond this machine")
        }
        let password = try Passwords.existing(file: passwordFile)
        let vault = try Vault(volumePaths: pool.volumes, password: password)
        let credentials: S3Credentials
        do {
            credentials = try S3Credentials.fromEnvironment() ?? S3CredentialStore.loadOrCreate(in: vault)
        } catch {
            try? vault.close()
            throw CLIFailure.failed("cannot get the S3 key pair: \(error)")
        }
        if let reason = vault.readOnlyReason { Output.note("serving read-only: \(reason)") }
        let server = S3Server(vault: vault, credentials: [credentials],
                              configuration: S3ServerConfiguration(host: host, port: port))
        let outcome = ServeOutcome()
        let finished = DispatchSemaphore(value: 0)
        Task {
            do {
                try await server.run { host, port in
                    let shown = host.contains(":") ? "[\(host)]" : host
                    print("s3 endpoint: http://\(shown):\(port)")
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

    /// "127.0.0.1:9000", "localhost:9000", "[::1]:9000".
    static func parseAddress(_ text: String) throws -> (String, Int) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex) ..< close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw CLIFailure.usage("--s3 \(text): expected [ADDRESS]:PORT") }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw CLIFailure.usage("--s3 \(text): expected HOST:PORT") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (0 ... 65535).contains(port) else {
            throw CLIFailure.usage("--s3 \(text): expected HOST:PORT with a port from 0 to 65535")
        }
        return (String(host), port)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
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
