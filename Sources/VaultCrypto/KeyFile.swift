// The key file: the vault's master keys wrapped under a key derived from the password.
// Changing the password rewraps the same keys, so no data is re-encrypted. The Vault layer
// decides where copies live (one per volume); this type only creates, parses, serialises,
// unlocks and rewraps.
//
// Wrong password versus damage: a checksum over the whole file is checked when parsing, so
// a corrupted copy is rejected as `.damagedKeyFile` before any expensive Argon2id run, and
// an intact file that does not open can honestly be reported as `.wrongPassword`.

import CSodium

/// A parsed (or freshly created) key file. Holds only public and wrapped data.
public struct KeyFile: Equatable, Sendable {
    public static let formatVersion: UInt16 = 1

    public let kdf: KDFParameters
    /// The AEAD the vault uses for content chunks and metadata records.
    public let contentAlgorithm: AEADAlgorithm
    let wrapNonce: [UInt8]
    let wrappedKeys: [UInt8]

    public var strength: KDFStrength { kdf.strength }
    /// True for vaults made with `--kdf test` (or anything cheaper than "interactive").
    public var isInsecure: Bool { kdf.isInsecure }

    private init(kdf: KDFParameters, contentAlgorithm: AEADAlgorithm, wrapNonce: [UInt8], wrappedKeys: [UInt8]) {
        self.kdf = kdf
        self.contentAlgorithm = contentAlgorithm
        self.wrapNonce = wrapNonce
        self.wrappedKeys = wrappedKeys
    }

    // MARK: - Create, unlock, rewrap

    /// New random master keys wrapped under `password`.
    public static func create(
        password: borrowing SecureBytes,
        strength: KDFStrength,
        contentAlgorithm: AEADAlgorithm = .preferredForThisMachine
    ) throws(CryptoError) -> (KeyFile, MasterKeys) {
        let keys = try MasterKeys.generate()
        let file = try wrap(keys.serializedKeyList(), password: password, kdf: .fresh(strength), contentAlgorithm: contentAlgorithm)
        return (file, keys)
    }

    public static func create(
        password: some Collection<UInt8>,
        strength: KDFStrength,
        contentAlgorithm: AEADAlgorithm = .preferredForThisMachine
    ) throws(CryptoError) -> (KeyFile, MasterKeys) {
        try create(password: SecureBytes(copying: password), strength: strength, contentAlgorithm: contentAlgorithm)
    }

    /// The master keys, or `.wrongPassword` when this intact file does not open with it.
    public func unlock(password: borrowing SecureBytes) throws(CryptoError) -> MasterKeys {
        let keyList = try unwrapKeyList(password: password)
        return try keyList.withUnsafeBytes { (list) throws(CryptoError) -> MasterKeys in
            try MasterKeys.parse(keyList: list)
        }
    }

    public func unlock(password: some Collection<UInt8>) throws(CryptoError) -> MasterKeys {
        try unlock(password: SecureBytes(copying: password))
    }

    /// The same master keys under a new password, with a new salt and nonce. Fails with
    /// `.wrongPassword` if `oldPassword` does not open this file. Keys of purposes this
    /// version does not know are carried over byte for byte.
    public func rewrapped(
        oldPassword: borrowing SecureBytes,
        newPassword: borrowing SecureBytes,
        strength: KDFStrength
    ) throws(CryptoError) -> KeyFile {
        let keyList = try unwrapKeyList(password: oldPassword)
        return try Self.wrap(keyList, password: newPassword, kdf: .fresh(strength), contentAlgorithm: contentAlgorithm)
    }

    public func rewrapped(
        oldPassword: some Collection<UInt8>,
        newPassword: some Collection<UInt8>,
        strength: KDFStrength
    ) throws(CryptoError) -> KeyFile {
        try rewrapped(oldPassword: SecureBytes(copying: oldPassword), newPassword: SecureBytes(copying: newPassword), strength: strength)
    }

    // MARK: - Bytes

    /// Parses and checks a key file; throws `.damagedKeyFile` for corruption and
    /// `.unsupportedKeyFileVersion` for a version this code does not read.
    public init(parsing bytes: [UInt8]) throws(CryptoError) {
        let fields = try KeyFileCodec.decode(bytes)
        self.init(kdf: fields.kdf, contentAlgorithm: fields.contentAlgorithm, wrapNonce: fields.wrapNonce, wrappedKeys: fields.wrappedKeys)
    }

    public func serialized() -> [UInt8] {
        KeyFileCodec.encode(fields)
    }

    private var fields: KeyFileCodec.Fields {
        KeyFileCodec.Fields(version: Self.formatVersion, kdf: kdf, wrapAlgorithm: .xChaCha20Poly1305,
                            contentAlgorithm: contentAlgorithm, wrapNonce: wrapNonce, wrappedKeys: wrappedKeys)
    }

    // MARK: - Wrapping

    private static func wrap(
        _ keyList: borrowing SecureBytes,
        password: borrowing SecureBytes,
        kdf: KDFParameters,
        contentAlgorithm: AEADAlgorithm
    ) throws(CryptoError) -> KeyFile {
        var nonce = [UInt8](repeating: 0, count: KeyFileCodec.wrapNonceSize)
        randombytes_buf(&nonce, nonce.count)
        // The header is the associated data, so its length field must already be final.
        let placeholder = KeyFile(kdf: kdf, contentAlgorithm: contentAlgorithm, wrapNonce: nonce,
                                  wrappedKeys: [UInt8](repeating: 0, count: keyList.count + AEADAlgorithm.tagSize))
        let header = KeyFileCodec.header(placeholder.fields)
        let sealer = try kdf.deriveKey(password: password).withUnsafeBytes { (kek) throws(CryptoError) -> AEADSealer in
            try AEADSealer(algorithm: .xChaCha20Poly1305, key: kek)
        }
        var wrapped = placeholder.wrappedKeys
        try keyList.withUnsafeBytes { (plain) throws(CryptoError) in
            try withBytes(of: header) { (header) throws(CryptoError) in
                try withBytes(of: nonce) { (nonce) throws(CryptoError) in
                    try withMutableBytes(of: &wrapped) { (out) throws(CryptoError) in
                        try sealer.seal(plain, associatedData: header, nonce: nonce, ciphertextAndTag: out)
                    }
                }
            }
        }
        return KeyFile(kdf: kdf, contentAlgorithm: contentAlgorithm, wrapNonce: nonce, wrappedKeys: wrapped)
    }

    private func unwrapKeyList(password: borrowing SecureBytes) throws(CryptoError) -> SecureBytes {
        let header = KeyFileCodec.header(fields)
        let sealer = try kdf.deriveKey(password: password).withUnsafeBytes { (kek) throws(CryptoError) -> AEADSealer in
            try AEADSealer(algorithm: .xChaCha20Poly1305, key: kek)
        }
        let keyList = try SecureBytes(count: wrappedKeys.count - AEADAlgorithm.tagSize)
        let authentic = try withBytes(of: wrappedKeys) { (wrapped) throws(CryptoError) -> Bool in
            try withBytes(of: header) { (header) throws(CryptoError) -> Bool in
                try withBytes(of: wrapNonce) { (nonce) throws(CryptoError) -> Bool in
                    try keyList.withUnsafeMutableBytes { (out) throws(CryptoError) -> Bool in
                        try sealer.open(wrapped, associatedData: header, nonce: nonce, plaintext: out)
                    }
                }
            }
        }
        // The checksum passed when parsing, so the bytes are as written: only the password
        // (or a deliberate edit that also fixed the checksum) can make the tag fail.
        guard authentic else { throw .wrongPassword }
        return keyList
    }
}
