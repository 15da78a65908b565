// Password → key-encryption key with Argon2id (libsodium crypto_pwhash, Argon2id v1.3).
// The parameters are stored in the key file, so a vault keeps its cost when libsodium's
// presets change, and a test vault's cheap setting stays visible forever.

import CSodium

/// How expensive unlocking is. `test` is the cheapest setting libsodium allows and exists
/// only so test suites can create vaults quickly; it is recorded and reported as insecure.
public enum KDFStrength: String, Sendable, CaseIterable, CustomStringConvertible {
    case interactive
    case moderate
    case sensitive
    case test

    /// libsodium's Argon2id presets (operations, bytes of memory).
    public var opsLimit: UInt64 {
        switch self {
        case .interactive: return UInt64(crypto_pwhash_argon2id_opslimit_interactive())
        case .moderate: return UInt64(crypto_pwhash_argon2id_opslimit_moderate())
        case .sensitive: return UInt64(crypto_pwhash_argon2id_opslimit_sensitive())
        case .test: return UInt64(crypto_pwhash_argon2id_opslimit_min())
        }
    }

    public var memLimit: UInt64 {
        switch self {
        case .interactive: return UInt64(crypto_pwhash_argon2id_memlimit_interactive())
        case .moderate: return UInt64(crypto_pwhash_argon2id_memlimit_moderate())
        case .sensitive: return UInt64(crypto_pwhash_argon2id_memlimit_sensitive())
        case .test: return UInt64(crypto_pwhash_argon2id_memlimit_min())
        }
    }

    public var isInsecure: Bool { self == .test }

    /// Stored in the key file; never reuse a value.
    var code: UInt8 {
        switch self {
        case .interactive: return 1
        case .moderate: return 2
        case .sensitive: return 3
        case .test: return 4
        }
    }

    init?(code: UInt8) {
        guard let strength = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = strength
    }

    public var description: String {
        isInsecure ? "\(rawValue) (INSECURE: for tests only)" : rawValue
    }
}

/// The recorded KDF settings of one key file.
public struct KDFParameters: Equatable, Sendable {
    public static let saltSize = 16
    /// Bounds enforced when reading a key file, so a damaged or hostile file cannot make
    /// unlocking allocate unbounded memory or spin for hours.
    public static let maximumOpsLimit: UInt64 = 64
    public static let maximumMemLimit: UInt64 = 4 << 30

    public let strength: KDFStrength
    public let opsLimit: UInt64
    public let memLimit: UInt64
    public let salt: [UInt8]

    /// True for the `test` setting and for anything cheaper than libsodium's interactive
    /// preset, whatever label the file carries.
    public var isInsecure: Bool {
        strength.isInsecure
            || opsLimit < KDFStrength.interactive.opsLimit
            || memLimit < KDFStrength.interactive.memLimit
    }

    init(strength: KDFStrength, opsLimit: UInt64, memLimit: UInt64, salt: [UInt8]) {
        self.strength = strength
        self.opsLimit = opsLimit
        self.memLimit = memLimit
        self.salt = salt
    }

    /// The preset for `strength` with a fresh random salt.
    static func fresh(_ strength: KDFStrength) -> KDFParameters {
        CryptoLibraries.ensureReady()
        var salt = [UInt8](repeating: 0, count: saltSize)
        randombytes_buf(&salt, saltSize)
        return KDFParameters(strength: strength, opsLimit: strength.opsLimit, memLimit: strength.memLimit, salt: salt)
    }

    /// Why these parameters cannot be used, or nil when they are within bounds.
    var problem: String? {
        let minimumOps = UInt64(crypto_pwhash_argon2id_opslimit_min())
        let minimumMemory = UInt64(crypto_pwhash_argon2id_memlimit_min())
        if salt.count != Self.saltSize { return "KDF salt is \(salt.count) bytes, expected \(Self.saltSize)" }
        if opsLimit < minimumOps || opsLimit > Self.maximumOpsLimit {
            return "KDF operations limit \(opsLimit) outside \(minimumOps)...\(Self.maximumOpsLimit)"
        }
        if memLimit < minimumMemory || memLimit > Self.maximumMemLimit {
            return "KDF memory limit \(memLimit) bytes outside \(minimumMemory)...\(Self.maximumMemLimit)"
        }
        return nil
    }

    /// Argon2id(password, salt) → 32-byte key in locked memory.
    func deriveKey(password: borrowing SecureBytes) throws(CryptoError) -> SecureBytes {
        CryptoLibraries.ensureReady()
        let key = try SecureBytes(count: AEADAlgorithm.keySize)
        let status = password.withUnsafeBytes { password in
            key.withUnsafeMutableBytes { key in
                salt.withUnsafeBufferPointer { salt in
                    crypto_pwhash(
                        key.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(key.count),
                        password.baseAddress!.assumingMemoryBound(to: CChar.self), UInt64(password.count),
                        salt.baseAddress!, opsLimit, Int(memLimit), crypto_pwhash_ALG_ARGON2ID13)
                }
            }
        }
        guard status == 0 else {
            throw .keyDerivationFailed(reason: "not enough memory for \(memLimit >> 20) MiB (or the parameters are invalid)")
        }
        return key
    }
}
