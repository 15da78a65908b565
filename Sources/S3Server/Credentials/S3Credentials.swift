import Foundation
import Vault

/// What a key pair may do: everything, or only read (GET and HEAD: objects, listings,
/// ListParts, ListMultipartUploads). Checked once, where a request is dispatched
/// (`S3Service.authorize`).
public enum S3Access: String, Sendable, Codable {
    case readWrite = "read-write"
    case readOnly = "read-only"
}

/// One S3 key pair. The access key id is public (it names the key); the secret signs.
public struct S3Credentials: Sendable, Equatable, Codable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var access: S3Access

    public init(accessKeyID: String, secretAccessKey: String, access: S3Access = .readWrite) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.access = access
    }

    /// A fresh pair from the system's CSPRNG: a 20-character id ("SV" + 18 of A–Z2–7) and a
    /// 40-character secret (base64 alphabet without "+" and "/", so it pastes everywhere).
    public static func generate(access: S3Access = .readWrite) -> S3Credentials {
        var generator = SystemRandomNumberGenerator()
        let idAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        let secretAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        let id = "SV" + String((0 ..< 18).map { _ in idAlphabet.randomElement(using: &generator)! })
        let secret = String((0 ..< 40).map { _ in secretAlphabet.randomElement(using: &generator)! })
        return S3Credentials(accessKeyID: id, secretAccessKey: secret, access: access)
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

/// Every key pair of a vault: the read-write pair (`s3-keys show|rotate`) and the read-only
/// ones (`s3-keys add-readonly|remove-readonly`), in the order they were added.
public struct S3KeyRing: Sendable, Equatable {
    public var readWrite: S3Credentials
    public var readOnly: [S3Credentials]

    public init(readWrite: S3Credentials, readOnly: [S3Credentials] = []) {
        self.readWrite = readWrite
        self.readOnly = readOnly
    }

    /// What a server accepts: the read-write pair first.
    public var all: [S3Credentials] { [readWrite] + readOnly }
}
