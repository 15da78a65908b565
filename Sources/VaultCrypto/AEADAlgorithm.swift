// The two content/metadata AEADs and what they put on disk. The choice is made once per
// vault (recorded in the key file) because a sealed chunk does not say which AEAD made it.

/// An AEAD for content chunks and metadata records. Raw values are stored in the key file
/// and bound into every chunk's associated data.
public enum AEADAlgorithm: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// AES-256-GCM through OpenSSL EVP: the fast choice on CPUs with AES-NI and CLMUL.
    case aes256GCM = 1
    /// XChaCha20-Poly1305 (IETF) through libsodium: constant-time without AES hardware.
    case xChaCha20Poly1305 = 2

    /// AES-256-GCM where the CPU has AES instructions, XChaCha20-Poly1305 elsewhere.
    public static var preferredForThisMachine: AEADAlgorithm {
        CryptoLibraries.hasAESHardware ? .aes256GCM : .xChaCha20Poly1305
    }

    public var nonceSize: Int {
        switch self {
        case .aes256GCM: return 12
        case .xChaCha20Poly1305: return 24
        }
    }

    public static let tagSize = 16
    public static let keySize = 32

    /// Bytes a sealed message has beyond its plaintext: nonce plus tag (28 or 40).
    public var overhead: Int {
        nonceSize + Self.tagSize
    }

    /// The largest `overhead` of any algorithm, for sizing buffers before the vault's
    /// algorithm is known.
    public static let maximumOverhead = 40

    public var description: String {
        switch self {
        case .aes256GCM: return "AES-256-GCM"
        case .xChaCha20Poly1305: return "XChaCha20-Poly1305"
        }
    }
}
