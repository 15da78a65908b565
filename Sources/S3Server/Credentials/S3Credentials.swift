import Foundation
import Vault

/// One S3 key pair. The access key id is public (it names the key); the secret signs.
public struct S3Credentials: Sendable, Equatable, Codable {
    public var accessKeyID: String
    public var secretAccessKey: String

    public init(accessKeyID: String, secretAccessKey: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
    }

    /// A fresh pair from the system's CSPRNG: a 20-character id ("SV" + 18 of A–Z2–7) and a
    /// 40-character secret (base64 alphabet without "+" and "/", so it pastes everywhere).
    public static func generate() -> S3Credentials {
        var generator = SystemRandomNumberGenerator()
        let idAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        let secretAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        let id = "SV" + String((0 ..< 18).map { _ in idAlphabet.randomElement(using: &generator)! })
        let secret = String((0 ..< 40).map { _ in secretAlphabet.randomElement(using: &generator)! })
        return S3Credentials(accessKeyID: id, secretAccessKey: secret)
    }

    /// The pair from SHARDVAULT_S3_ACCESS_KEY / SHARDVAULT_S3_SECRET_KEY, when both are set;
    /// throws when only one of them is.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(S3Error) -> S3Credentials? {
        let id = environment[S3CredentialStore.accessKeyVariable].flatMap { $0.isEmpty ? nil : $0 }
        let secret = environment[S3CredentialStore.secretKeyVariable].flatMap { $0.isEmpty ? nil : $0 }
        switch (id, secret) {
        case (nil, nil): return nil
        case let (id?, secret?): return S3Credentials(accessKeyID: id, secretAccessKey: secret)
        default:
            throw S3Error(.invalidArgument, "set both \(S3CredentialStore.accessKeyVariable) and \(S3CredentialStore.secretKeyVariable), or neither")
        }
    }
}

/// The vault's stored key pair (docs/S3.md, "Credentials"): JSON, format 1, sealed by the
/// vault under its own metadata kind (Vault+S3Credentials.swift).
public enum S3CredentialStore {
    public static let accessKeyVariable = "SHARDVAULT_S3_ACCESS_KEY"
    public static let secretKeyVariable = "SHARDVAULT_S3_SECRET_KEY"
    static let formatVersion = 1

    private struct Stored: Codable {
        var format: Int
        var accessKeyID: String
        var secretAccessKey: String
        /// Seconds since 1970 when the pair was made.
        var created: Int64
    }

    /// The stored pair, or nil when the vault has none yet.
    public static func load(from vault: Vault) throws -> S3Credentials? {
        guard let bytes = try vault.storedS3Credentials() else { return nil }
        let stored: Stored
        do {
            stored = try JSONDecoder().decode(Stored.self, from: Data(bytes))
        } catch {
            throw VaultError(.io, "the stored S3 credentials are not readable: \(error)")
        }
        guard stored.format == formatVersion else {
            throw VaultError(.notSupported, "the stored S3 credentials have format \(stored.format); this version reads format \(formatVersion)")
        }
        return S3Credentials(accessKeyID: stored.accessKeyID, secretAccessKey: stored.secretAccessKey)
    }

    /// The stored pair, made and stored first when the vault has none.
    public static func loadOrCreate(in vault: Vault) throws -> S3Credentials {
        if let existing = try load(from: vault) { return existing }
        return try rotate(in: vault)
    }

    /// Replaces the stored pair with a fresh one (the old one stops working at once).
    @discardableResult
    public static func rotate(in vault: Vault) throws -> S3Credentials {
        let fresh = S3Credentials.generate()
        let stored = Stored(format: formatVersion, accessKeyID: fresh.accessKeyID, secretAccessKey: fresh.secretAccessKey,
                            created: HTTPDates.nowSeconds())
        try vault.storeS3Credentials(Array(try JSONEncoder().encode(stored)))
        return fresh
    }
}
