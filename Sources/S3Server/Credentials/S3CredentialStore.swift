import Foundation
import Vault

/// The vault's stored key pairs (docs/S3.md, "Credentials"): one JSON document, sealed by the
/// vault under its own metadata kind (Vault+S3Credentials.swift).
///
/// - Format 1 (every version so far): the read-write pair,
///   `{"format":1,"accessKeyID":…,"secretAccessKey":…,"created":SECONDS}`.
/// - Format 2: the same members plus `"readOnly":[{"accessKeyID":…,"secretAccessKey":…,"created":…},…]`.
///
/// Both are read. Format 2 is written only while the vault has read-only pairs; without any,
/// the document is format 1 again, so a vault that does not use them stays readable by
/// versions that know format 1 only.
public enum S3CredentialStore {
    public static let accessKeyVariable = "SHARDVAULT_S3_ACCESS_KEY"
    public static let secretKeyVariable = "SHARDVAULT_S3_SECRET_KEY"
    /// The newest format this version reads and writes.
    static let formatVersion = 2

    private struct StoredPair: Codable, Equatable {
        var accessKeyID: String
        var secretAccessKey: String
        /// Seconds since 1970 when the pair was made.
        var created: Int64

        static func fresh(_ access: S3Access) -> StoredPair {
            let pair = S3Credentials.generate(access: access)
            return StoredPair(accessKeyID: pair.accessKeyID, secretAccessKey: pair.secretAccessKey, created: HTTPDates.nowSeconds())
        }

        func credentials(_ access: S3Access) -> S3Credentials {
            S3Credentials(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, access: access)
        }
    }

    private struct Stored: Codable {
        var format: Int
        var accessKeyID: String
        var secretAccessKey: String
        var created: Int64
        /// Format 2 only; absent in format 1.
        var readOnly: [StoredPair]?

        init(readWrite: StoredPair, readOnly: [StoredPair]) {
            format = readOnly.isEmpty ? 1 : 2
            accessKeyID = readWrite.accessKeyID
            secretAccessKey = readWrite.secretAccessKey
            created = readWrite.created
            self.readOnly = readOnly.isEmpty ? nil : readOnly
        }

        var readWrite: StoredPair { StoredPair(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, created: created) }
        var readOnlyPairs: [StoredPair] { format >= 2 ? readOnly ?? [] : [] }
    }

    // MARK: Reading

    /// Every stored pair, or nil when the vault has none yet.
    public static func loadKeyRing(from vault: Vault) throws -> S3KeyRing? {
        guard let stored = try read(vault) else { return nil }
        return S3KeyRing(readWrite: stored.readWrite.credentials(.readWrite),
                         readOnly: stored.readOnlyPairs.map { $0.credentials(.readOnly) })
    }

    /// The stored read-write pair, or nil when the vault has none yet.
    public static func load(from vault: Vault) throws -> S3Credentials? {
        try loadKeyRing(from: vault)?.readWrite
    }

    /// Every stored pair, a read-write pair made and stored first when the vault has none.
    public static func loadOrCreateKeyRing(in vault: Vault) throws -> S3KeyRing {
        if let existing = try loadKeyRing(from: vault) { return existing }
        return S3KeyRing(readWrite: try rotate(in: vault))
    }

    /// The stored read-write pair, made and stored first when the vault has none.
    public static func loadOrCreate(in vault: Vault) throws -> S3Credentials {
        try loadOrCreateKeyRing(in: vault).readWrite
    }

    // MARK: Changing

    /// Replaces the read-write pair with a fresh one (the old one stops working at once); the
    /// read-only pairs stay.
    @discardableResult
    public static func rotate(in vault: Vault) throws -> S3Credentials {
        let fresh = StoredPair.fresh(.readWrite)
        try write(Stored(readWrite: fresh, readOnly: try read(vault)?.readOnlyPairs ?? []), to: vault)
        return fresh.credentials(.readWrite)
    }

    /// Adds a fresh read-only pair (making the read-write pair first if the vault has none).
    @discardableResult
    public static func addReadOnly(in vault: Vault) throws -> S3Credentials {
        let current = try read(vault)
        let taken = Set((current.map { [$0.readWrite] + $0.readOnlyPairs } ?? []).map(\.accessKeyID))
        var fresh = StoredPair.fresh(.readOnly)
        while taken.contains(fresh.accessKeyID) { fresh = StoredPair.fresh(.readOnly) }
        let readWrite = current?.readWrite ?? StoredPair.fresh(.readWrite)
        try write(Stored(readWrite: readWrite, readOnly: (current?.readOnlyPairs ?? []) + [fresh]), to: vault)
        return fresh.credentials(.readOnly)
    }

    /// Removes the read-only pair named by `accessKeyID` (it stops working at once). Throws
    /// `notFound` when no read-only pair has that id, `invalidArgument` for the read-write pair.
    public static func removeReadOnly(accessKeyID: String, in vault: Vault) throws {
        guard let current = try read(vault) else {
            throw VaultError(.notFound, "the vault has no S3 key pairs, so no read-only pair \(accessKeyID)")
        }
        if current.accessKeyID == accessKeyID {
            throw VaultError(.invalidArgument, "\(accessKeyID) is the vault's read-write S3 key pair, not a read-only one "
                + "(`shardvault s3-keys rotate` replaces it)")
        }
        let remaining = current.readOnlyPairs.filter { $0.accessKeyID != accessKeyID }
        guard remaining.count < current.readOnlyPairs.count else {
            throw VaultError(.notFound, "the vault has no read-only S3 key pair with the access key \(accessKeyID)")
        }
        try write(Stored(readWrite: current.readWrite, readOnly: remaining), to: vault)
    }

    // MARK: The document

    private struct FormatProbe: Decodable { var format: Int }

    private static func read(_ vault: Vault) throws -> Stored? {
        guard let bytes = try vault.storedS3Credentials() else { return nil }
        do {
            let format = try JSONDecoder().decode(FormatProbe.self, from: Data(bytes)).format
            guard (1 ... formatVersion).contains(format) else {
                throw VaultError(.notSupported, "the stored S3 credentials have format \(format); this version reads formats 1 to \(formatVersion)")
            }
            return try JSONDecoder().decode(Stored.self, from: Data(bytes))
        } catch let error as VaultError {
            throw error
        } catch {
            throw VaultError(.io, "the stored S3 credentials are not readable: \(error)")
        }
    }

    private static func write(_ stored: Stored, to vault: Vault) throws {
        try vault.storeS3Credentials(Array(try JSONEncoder().encode(stored)))
    }
}
