import VolumePool

/// What the journal needs from the crypto layer: authenticated encryption of metadata objects
/// bound to what they are (kind and sequence number), and object ids that only the key holder
/// can compute, so the volumes show neither which objects are metadata nor how they follow.
public protocol MetadataProtection: Sendable {
    func seal(_ plaintext: [UInt8], kind: MetadataKind, sequence: UInt64) throws -> [UInt8]
    func open(_ sealed: [UInt8], kind: MetadataKind, sequence: UInt64) throws -> [UInt8]
    func objectID(kind: MetadataKind, sequence: UInt64) -> ObjectID
}

/// The kinds of metadata object in the pool (docs/FORMAT-vault.md).
public enum MetadataKind: UInt32, Sendable {
    /// Two alternating slots (sequence 0 and 1) naming the newest checkpoint.
    case superblock = 1
    /// The whole namespace at one point of the journal.
    case checkpoint = 2
    /// One group commit of namespace records.
    case journalSegment = 3
    /// Two alternating slots (sequence 0 and 1) holding the S3 door's key pair (Vault+S3Credentials.swift).
    case s3Credentials = 4
}
