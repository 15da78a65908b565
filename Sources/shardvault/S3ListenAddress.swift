import S3Server
import Vault

/// Where the S3 door listens (`serve --s3 ADDR`, `mount -o s3=ADDR`), and the rule both
/// commands share: anything but loopback needs an explicit opt-in, since requests are signed
/// but travel unencrypted (no TLS yet).
struct S3ListenAddress: Equatable {
    var host: String
    var port: Int

    /// "127.0.0.1:9000", "localhost:9000", "[::1]:9000"; port 0 picks a free one. `option`
    /// is how the command line spelled it ("--s3", "-o s3="), for the message.
    init(parsing text: String, option: String) throws(CLIFailure) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex) ..< close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw CLIFailure.usage("\(option) \(text): expected [ADDRESS]:PORT") }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw CLIFailure.usage("\(option) \(text): expected HOST:PORT") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (0 ... 65535).contains(port) else {
            throw CLIFailure.usage("\(option) \(text): expected HOST:PORT with a port from 0 to 65535")
        }
        self.host = String(host)
        self.port = port
    }

    var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Refuses a non-loopback address unless `allowed`; `optIn` names the flag that allows it.
    func requireLoopback(unless allowed: Bool, optIn: String) throws(CLIFailure) {
        guard allowed || isLoopback else {
            throw CLIFailure.usage("\(host) is not a loopback address; pass \(optIn) to serve S3 beyond this machine")
        }
    }

    var configuration: S3ServerConfiguration { S3ServerConfiguration(host: host, port: port) }

    /// The line both commands print once the socket is bound; tests and scripts read it.
    static func endpointLine(host: String, port: Int) -> String {
        "s3 endpoint: http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }
}

extension S3Credentials {
    /// The key pairs a daemon serves with: the read-write pair from `$SHARDVAULT_S3_ACCESS_KEY`/
    /// `…_SECRET_KEY` when set, else the vault's own (made on first use); then the vault's
    /// read-only pairs.
    static func forDaemon(serving vault: Vault) throws(CLIFailure) -> [S3Credentials] {
        do {
            if let overridden = try S3Credentials.fromEnvironment() {
                return [overridden] + (try S3CredentialStore.loadKeyRing(from: vault)?.readOnly ?? [])
            }
            return try S3CredentialStore.loadOrCreateKeyRing(in: vault).all
        } catch {
            throw CLIFailure.failed("cannot get the S3 key pairs: \(error)")
        }
    }
}
