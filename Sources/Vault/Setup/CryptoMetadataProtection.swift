import VaultCrypto
import VolumePool

/// MetadataProtection backed by the vault's metadata key.
struct CryptoMetadataProtection: MetadataProtection {
    let cipher: MetadataCipher
    let namer: ObjectNamer

    func seal(_ plaintext: [UInt8], kind: MetadataKind, sequence: UInt64) throws -> [UInt8] {
        try cipher.seal(plaintext, context: MetadataContext(kind: kind.rawValue, sequence: sequence))
    }

    func open(_ sealed: [UInt8], kind: MetadataKind, sequence: UInt64) throws -> [UInt8] {
        try cipher.open(sealed, context: MetadataContext(kind: kind.rawValue, sequence: sequence))
    }

    func objectID(kind: MetadataKind, sequence: UInt64) -> ObjectID {
        let (high, low) = namer.identifier(kind: kind.rawValue, sequence: sequence)
        return ObjectID(high: high, low: low)
    }
}
