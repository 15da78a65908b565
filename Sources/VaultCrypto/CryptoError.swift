// Every way the crypto layer can refuse or fail, in one enum, so the Vault and the CLI map
// errors to messages and errno values in one place. Each case carries enough context that
// its description alone tells a user (or a log reader) what went wrong.

/// Errors of the VaultCrypto layer.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    // Passwords and key files.
    /// The key file is intact but the password does not open it.
    case wrongPassword
    /// The key file bytes are not a valid key file (truncated, corrupted, not a key file).
    case damagedKeyFile(reason: String)
    /// A key file written by a newer (or unknown) format version.
    case unsupportedKeyFileVersion(found: Int, supported: Int)
    /// Unlocked keys lack a key this version needs.
    case missingKey(purpose: String)
    /// `MasterKeys.close()` was called before the keys were used.
    case keysClosed
    /// Argon2id could not run (typically: not enough memory for the recorded memory limit).
    case keyDerivationFailed(reason: String)
    /// A password file or environment variable could not be read.
    case passwordUnavailable(source: String, reason: String)

    // Sealing and opening.
    /// A sealed name, chunk or record failed authentication: damaged, tampered with, or
    /// presented under the wrong context (another directory, block, index or record).
    case authenticationFailed(context: String)
    /// A plaintext name longer than the 255-byte limit (counted after NFC normalisation).
    case nameTooLong(byteCount: Int, limit: Int)
    /// A name that cannot be encrypted (empty).
    case invalidName(reason: String)
    /// A content chunk bigger than the chunk size.
    case chunkTooLarge(byteCount: Int, limit: Int)
    /// The caller's output buffer cannot hold the result.
    case bufferTooSmall(needed: Int, available: Int)
    /// Text that is not valid unpadded base64url.
    case invalidTextEncoding(reason: String)

    // The libraries underneath.
    /// An algorithm is not available in this build of OpenSSL or libsodium.
    case algorithmUnavailable(name: String)
    /// OpenSSL or libsodium failed for a reason other than authentication (an internal
    /// error, the random generator failing, memory exhausted).
    case libraryFailure(operation: String, detail: String)

    public var description: String {
        switch self {
        case .wrongPassword:
            return "wrong password: the key file is intact but this password does not unlock it"
        case let .damagedKeyFile(reason):
            return "damaged key file: \(reason)"
        case let .unsupportedKeyFileVersion(found, supported):
            return "key file format version \(found) is not supported (this shardvault reads version \(supported)); upgrade shardvault"
        case let .missingKey(purpose):
            return "the unlocked key file has no \(purpose) key"
        case .keysClosed:
            return "the master keys were already closed (wiped) and cannot be used"
        case let .keyDerivationFailed(reason):
            return "password key derivation (Argon2id) failed: \(reason)"
        case let .passwordUnavailable(source, reason):
            return "cannot read the password from \(source): \(reason)"
        case let .authenticationFailed(context):
            return "authentication failed for \(context): the data is damaged, was tampered with, or belongs elsewhere"
        case let .nameTooLong(byteCount, limit):
            return "name too long: \(byteCount) bytes in UTF-8 (NFC), the limit is \(limit)"
        case let .invalidName(reason):
            return "invalid name: \(reason)"
        case let .chunkTooLarge(byteCount, limit):
            return "content chunk of \(byteCount) bytes exceeds the \(limit)-byte chunk size"
        case let .bufferTooSmall(needed, available):
            return "output buffer too small: \(needed) bytes needed, \(available) available"
        case let .invalidTextEncoding(reason):
            return "invalid base64url text: \(reason)"
        case let .algorithmUnavailable(name):
            return "cryptographic algorithm \(name) is not available in the installed OpenSSL/libsodium"
        case let .libraryFailure(operation, detail):
            return "crypto library failure during \(operation): \(detail)"
        }
    }
}
