// The binary layout of a key file (docs/FORMAT-crypto.md, "Key file"). Only structure lives
// here; what the fields mean and how the keys are wrapped is in KeyFile.swift.
//
//     offset  size  field
//          0     8  magic "SVKEYF\r\n"
//          8     2  format version (little-endian) = 1
//         10     1  KDF algorithm: 1 = Argon2id v1.3
//         11     1  KDF strength label: 1 interactive, 2 moderate, 3 sensitive, 4 test
//         12     8  KDF operations limit
//         20     8  KDF memory limit, bytes
//         28    16  KDF salt
//         44     1  wrapping AEAD: 2 = XChaCha20-Poly1305
//         45     1  content/metadata AEAD: 1 = AES-256-GCM, 2 = XChaCha20-Poly1305
//         46     2  reserved, zero
//         48    24  wrapping nonce
//         72     4  wrapped key list length N
//         76     N  wrapped key list (ciphertext ‖ 16-byte tag); bytes 0..<76 are its AAD
//       76+N    32  BLAKE2b-256 of bytes 0..<76+N

import CSodium

enum KeyFileCodec {
    static let magic: [UInt8] = Array("SVKEYF\r\n".utf8)
    static let headerSize = 76
    static let checksumSize = 32
    static let wrapNonceSize = 24
    static let kdfArgon2id13: UInt8 = 1
    /// The key list is tiny (three keys today); the bound stops a damaged length field from
    /// asking for gigabytes.
    static let maximumWrappedLength = 4096
    static let smallestFileSize = headerSize + AEADAlgorithm.tagSize + checksumSize

    struct Fields: Equatable {
        var version: UInt16
        var kdf: KDFParameters
        var wrapAlgorithm: AEADAlgorithm
        var contentAlgorithm: AEADAlgorithm
        var wrapNonce: [UInt8]
        var wrappedKeys: [UInt8]
    }

    static func header(_ fields: Fields) -> [UInt8] {
        var bytes = magic
        bytes.reserveCapacity(headerSize)
        appendLittleEndian(fields.version, to: &bytes)
        bytes.append(kdfArgon2id13)
        bytes.append(fields.kdf.strength.code)
        appendLittleEndian(fields.kdf.opsLimit, to: &bytes)
        appendLittleEndian(fields.kdf.memLimit, to: &bytes)
        bytes += fields.kdf.salt
        bytes.append(fields.wrapAlgorithm.rawValue)
        bytes.append(fields.contentAlgorithm.rawValue)
        bytes += [0, 0]
        bytes += fields.wrapNonce
        appendLittleEndian(UInt32(fields.wrappedKeys.count), to: &bytes)
        assert(bytes.count == headerSize)
        return bytes
    }

    static func encode(_ fields: Fields) -> [UInt8] {
        var bytes = header(fields) + fields.wrappedKeys
        bytes += checksum(of: bytes)
        return bytes
    }

    /// Checks structure and checksum; says nothing about whether a password fits.
    static func decode(_ bytes: [UInt8]) throws(CryptoError) -> Fields {
        guard bytes.count >= smallestFileSize else {
            throw .damagedKeyFile(reason: "\(bytes.count) bytes, shorter than the smallest key file (\(smallestFileSize))")
        }
        // Checksum first: a flipped bit anywhere (even in the version) is reported as damage,
        // not as an unknown version or a wrong password.
        let body = Array(bytes[..<(bytes.count - checksumSize)])
        guard checksum(of: body) == Array(bytes[(bytes.count - checksumSize)...]) else {
            throw .damagedKeyFile(reason: "checksum mismatch (the file was corrupted or truncated)")
        }
        guard Array(bytes[0..<8]) == magic else {
            throw .damagedKeyFile(reason: "not a ShardVault key file (bad magic)")
        }
        var reader = Reader(bytes: body, offset: 8)
        let version: UInt16 = reader.littleEndian()
        guard version == KeyFile.formatVersion else {
            throw .unsupportedKeyFileVersion(found: Int(version), supported: Int(KeyFile.formatVersion))
        }
        let kdfAlgorithm = reader.byte()
        guard kdfAlgorithm == kdfArgon2id13 else { throw .damagedKeyFile(reason: "unknown KDF algorithm \(kdfAlgorithm)") }
        let strengthCode = reader.byte()
        guard let strength = KDFStrength(code: strengthCode) else {
            throw .damagedKeyFile(reason: "unknown KDF strength \(strengthCode)")
        }
        let opsLimit: UInt64 = reader.littleEndian()
        let memLimit: UInt64 = reader.littleEndian()
        let kdf = KDFParameters(strength: strength, opsLimit: opsLimit, memLimit: memLimit,
                                salt: reader.bytes(KDFParameters.saltSize))
        if let problem = kdf.problem { throw .damagedKeyFile(reason: problem) }
        let wrapCode = reader.byte()
        let contentCode = reader.byte()
        guard wrapCode == AEADAlgorithm.xChaCha20Poly1305.rawValue, let wrapAlgorithm = AEADAlgorithm(rawValue: wrapCode) else {
            throw .damagedKeyFile(reason: "unknown key wrapping algorithm \(wrapCode)")
        }
        guard let contentAlgorithm = AEADAlgorithm(rawValue: contentCode) else {
            throw .damagedKeyFile(reason: "unknown content algorithm \(contentCode)")
        }
        guard reader.bytes(2) == [0, 0] else { throw .damagedKeyFile(reason: "reserved bytes are not zero") }
        let wrapNonce = reader.bytes(wrapNonceSize)
        let wrappedLength = Int(reader.littleEndian() as UInt32)
        guard wrappedLength >= AEADAlgorithm.tagSize, wrappedLength <= maximumWrappedLength,
              headerSize + wrappedLength == body.count else {
            throw .damagedKeyFile(reason: "wrapped key length \(wrappedLength) does not match the file size \(bytes.count)")
        }
        return Fields(version: version, kdf: kdf, wrapAlgorithm: wrapAlgorithm, contentAlgorithm: contentAlgorithm,
                      wrapNonce: wrapNonce, wrappedKeys: reader.bytes(wrappedLength))
    }

    /// Unkeyed BLAKE2b-256: detects accidental damage cheaply, before any Argon2id run. It is
    /// not a security measure; the AEAD tag is.
    static func checksum(of bytes: [UInt8]) -> [UInt8] {
        CryptoLibraries.ensureReady()
        var digest = [UInt8](repeating: 0, count: checksumSize)
        _ = crypto_generichash(&digest, checksumSize, bytes, UInt64(bytes.count), nil, 0)
        return digest
    }

    private static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    /// Reads fields at known offsets; `decode` has already checked the total length.
    struct Reader {
        let bytes: [UInt8]
        var offset: Int

        mutating func byte() -> UInt8 {
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func bytes(_ count: Int) -> [UInt8] {
            defer { offset += count }
            return Array(bytes[offset..<(offset + count)])
        }

        mutating func littleEndian<T: FixedWidthInteger>() -> T {
            var value: T = 0
            for shift in 0..<MemoryLayout<T>.size {
                value |= T(bytes[offset + shift]) << (8 * shift)
            }
            offset += MemoryLayout<T>.size
            return value
        }
    }
}
