// Journal records and checkpoints are sealed like content chunks (nonce ‖ ciphertext ‖ tag)
// under the metadata key. The associated data is the caller's context:
//
//     layout version (1) ‖ AEAD id (1) ‖ record kind (4, LE) ‖ sequence number (8, LE)
//
// so a record replayed at another sequence number, or presented as another kind (a journal
// record as a checkpoint), fails authentication.

/// What a sealed metadata record is and where it belongs; bound into its associated data.
public struct MetadataContext: Hashable, Sendable, CustomStringConvertible {
    /// Record kind chosen by the Vault (journal record, checkpoint, ...).
    public var kind: UInt32
    /// Sequence number (journal position, checkpoint generation).
    public var sequence: UInt64

    public init(kind: UInt32, sequence: UInt64) {
        self.kind = kind
        self.sequence = sequence
    }

    public var description: String {
        "metadata record kind \(kind) sequence \(sequence)"
    }
}

/// Seals and opens metadata records with the vault's metadata key. Thread-safe.
public final class MetadataCipher: Sendable {
    public static let layoutVersion: UInt8 = 1

    public let algorithm: AEADAlgorithm
    let sealer: AEADSealer

    public init(keys: MasterKeys, algorithm: AEADAlgorithm) throws(CryptoError) {
        self.algorithm = algorithm
        self.sealer = try keys.withKey(.metadata) { (key) throws(CryptoError) -> AEADSealer in
            try AEADSealer(algorithm: algorithm, key: key)
        }
    }

    public var overhead: Int { algorithm.overhead }

    public func sealedSize(plaintextCount: Int) -> Int {
        plaintextCount + overhead
    }

    /// Seals `record` into `output`; returns the bytes written (record.count + overhead).
    public func seal(
        _ record: UnsafeRawBufferPointer,
        context: MetadataContext,
        into output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) -> Int {
        try withAssociatedData(context) { (associatedData) throws(CryptoError) -> Int in
            try sealer.seal(record, associatedData: associatedData, into: output)
        }
    }

    /// Opens a sealed record into `output`; returns the record length.
    public func open(
        _ sealed: UnsafeRawBufferPointer,
        context: MetadataContext,
        into output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) -> Int {
        let opened = try withAssociatedData(context) { (associatedData) throws(CryptoError) -> Int? in
            try sealer.open(sealed, associatedData: associatedData, into: output)
        }
        guard let count = opened else {
            throw .authenticationFailed(context: "\(context) (\(sealed.count) sealed bytes)")
        }
        return count
    }

    /// Array convenience for code that already holds the record in an array.
    public func seal(_ record: [UInt8], context: MetadataContext) throws(CryptoError) -> [UInt8] {
        var sealed = [UInt8](repeating: 0, count: sealedSize(plaintextCount: record.count))
        _ = try withBytes(of: record) { (plain) throws(CryptoError) -> Int in
            try withMutableBytes(of: &sealed) { (out) throws(CryptoError) -> Int in
                try seal(plain, context: context, into: out)
            }
        }
        return sealed
    }

    /// Array convenience; throws `.authenticationFailed` for anything not sealed with this
    /// key and context.
    public func open(_ sealed: [UInt8], context: MetadataContext) throws(CryptoError) -> [UInt8] {
        var record = [UInt8](repeating: 0, count: max(sealed.count - overhead, 0))
        let count = try withBytes(of: sealed) { (input) throws(CryptoError) -> Int in
            try withMutableBytes(of: &record) { (out) throws(CryptoError) -> Int in
                try open(input, context: context, into: out)
            }
        }
        record.removeSubrange(count...)
        return record
    }

    private func withAssociatedData<Value>(
        _ context: MetadataContext,
        _ body: (UnsafeRawBufferPointer) throws(CryptoError) -> Value
    ) throws(CryptoError) -> Value {
        var storage: (UInt64, UInt64) = (0, 0)
        return try withUnsafeMutableBytes(of: &storage) { (buffer) throws(CryptoError) -> Value in
            buffer.storeBytes(of: Self.layoutVersion, toByteOffset: 0, as: UInt8.self)
            buffer.storeBytes(of: algorithm.rawValue, toByteOffset: 1, as: UInt8.self)
            buffer.storeBytes(of: context.kind.littleEndian, toByteOffset: 2, as: UInt32.self)
            buffer.storeBytes(of: context.sequence.littleEndian, toByteOffset: 6, as: UInt64.self)
            return try body(UnsafeRawBufferPointer(rebasing: buffer[0..<14]))
        }
    }
}
