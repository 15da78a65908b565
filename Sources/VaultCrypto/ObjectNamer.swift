import CSodium

/// Computes the pool object ids of metadata objects (superblocks, checkpoints, journal
/// segments) from their kind and sequence number, keyed so only the key holder can tell
/// which objects in the pool are metadata or in which order they were written.
///
/// id = BLAKE2b-128(key: subkey, message: kind (4, LE) ‖ sequence (8, LE)), where the subkey is
/// derived from the metadata key with crypto_kdf (context "SVobjids", id 1), so the AEAD key is
/// never used by a second primitive.
public final class ObjectNamer: Sendable {
    private let subkey: SecureBytes

    public init(keys: MasterKeys) throws(CryptoError) {
        let subkey = try SecureBytes(count: Int(crypto_kdf_KEYBYTES))
        try keys.withKey(.metadata) { (metadataKey) throws(CryptoError) -> Void in
            guard metadataKey.count == Int(crypto_kdf_KEYBYTES) else { throw .missingKey(purpose: "metadata (32 bytes)") }
            let status = subkey.withUnsafeMutableBytes { out in
                crypto_kdf_derive_from_key(out.baseAddress!.assumingMemoryBound(to: UInt8.self), out.count, 1,
                                           "SVobjids", metadataKey.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            guard status == 0 else { throw .missingKey(purpose: "metadata subkey derivation failed") }
        }
        self.subkey = subkey
    }

    /// The 16-byte id, as (high, low) big-endian halves.
    public func identifier(kind: UInt32, sequence: UInt64) -> (high: UInt64, low: UInt64) {
        // Spelled out byte by byte: a (UInt32, UInt64) tuple would carry 4 bytes of padding.
        var message = [UInt8](repeating: 0, count: 12)
        for byte in 0 ..< 4 { message[byte] = UInt8(truncatingIfNeeded: kind >> (8 * UInt32(byte))) }
        for byte in 0 ..< 8 { message[4 + byte] = UInt8(truncatingIfNeeded: sequence >> (8 * UInt64(byte))) }
        var digest = [UInt8](repeating: 0, count: 16)
        subkey.withUnsafeBytes { key in
            _ = crypto_generichash(&digest, 16, message, 12, key.baseAddress!.assumingMemoryBound(to: UInt8.self), key.count)
        }
        let high = digest[0 ..< 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let low = digest[8 ..< 16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return (high, low)
    }
}
