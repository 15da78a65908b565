// File content is cut into 32 KiB plaintext chunks, each sealed on its own so a read
// decrypts only the chunks it touches. The associated data ties a chunk to its place:
//
//     layout version (1) ‖ AEAD id (1) ‖ block id (16) ‖ chunk index (4, little-endian)
//
// so a chunk copied to another index, another block, or read under the other AEAD fails
// authentication. Whether a block has all its chunks (truncation) is the Vault's job: it
// knows every file's size from authenticated metadata.

/// Seals and opens content chunks with the vault's content key.
///
/// Thread-safe; works only in caller-provided buffers and performs no allocation per chunk
/// once warm (see bench/Benchmarks/CryptoMallocs).
public final class ContentCipher: Sendable {
    /// Plaintext bytes per chunk; only a file's last chunk may be shorter.
    public static let chunkSize = 32 * 1024
    /// Version of the chunk layout and associated data described above.
    public static let layoutVersion: UInt8 = 1

    public let algorithm: AEADAlgorithm
    let sealer: AEADSealer

    public init(keys: MasterKeys, algorithm: AEADAlgorithm) throws(CryptoError) {
        self.algorithm = algorithm
        self.sealer = try keys.withKey(.content) { (key) throws(CryptoError) -> AEADSealer in
            try AEADSealer(algorithm: algorithm, key: key)
        }
    }

    /// Bytes a sealed chunk has beyond its plaintext (28 for GCM, 40 for XChaCha).
    public var overhead: Int { algorithm.overhead }

    public static func overhead(for algorithm: AEADAlgorithm) -> Int { algorithm.overhead }

    public func sealedSize(plaintextCount: Int) -> Int {
        plaintextCount + overhead
    }

    /// Seals one chunk into `output` (nonce ‖ ciphertext ‖ tag); returns the bytes written.
    /// `output` must hold `plaintext.count + overhead` bytes and must not overlap `plaintext`.
    public func sealChunk(
        plaintext: UnsafeRawBufferPointer,
        blockID: BlockID,
        index: UInt32,
        into output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) -> Int {
        guard plaintext.count <= Self.chunkSize else {
            throw .chunkTooLarge(byteCount: plaintext.count, limit: Self.chunkSize)
        }
        return try withAssociatedData(blockID: blockID, index: index) { (associatedData) throws(CryptoError) -> Int in
            try sealer.seal(plaintext, associatedData: associatedData, into: output)
        }
    }

    /// Opens a sealed chunk into `output`; returns the plaintext length. Throws
    /// `.authenticationFailed` naming the block and index when the chunk is damaged or is
    /// not the chunk sealed for this block and index.
    public func openChunk(
        sealed: UnsafeRawBufferPointer,
        blockID: BlockID,
        index: UInt32,
        into output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) -> Int {
        guard sealed.count <= Self.chunkSize + overhead else {
            throw .chunkTooLarge(byteCount: sealed.count - overhead, limit: Self.chunkSize)
        }
        let opened = try withAssociatedData(blockID: blockID, index: index) { (associatedData) throws(CryptoError) -> Int? in
            try sealer.open(sealed, associatedData: associatedData, into: output)
        }
        guard let plaintextCount = opened else {
            throw .authenticationFailed(context: "content chunk \(index) of block \(blockID) (\(sealed.count) sealed bytes)")
        }
        return plaintextCount
    }

    /// Fills `buffer` with random bytes, which cannot be told from sealed chunks: what pads a
    /// pool object of compact chunks out to whole sealed chunks.
    public func fillPadding(_ buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        try CryptoLibraries.fillRandom(buffer)
    }

    /// The 22 bytes of associated data, written into stack memory (no heap).
    private func withAssociatedData<Value>(
        blockID: BlockID, index: UInt32,
        _ body: (UnsafeRawBufferPointer) throws(CryptoError) -> Value
    ) throws(CryptoError) -> Value {
        var storage: (UInt64, UInt64, UInt64) = (0, 0, 0)
        return try withUnsafeMutableBytes(of: &storage) { (buffer) throws(CryptoError) -> Value in
            buffer.storeBytes(of: Self.layoutVersion, toByteOffset: 0, as: UInt8.self)
            buffer.storeBytes(of: algorithm.rawValue, toByteOffset: 1, as: UInt8.self)
            buffer.storeBytes(of: blockID.high.bigEndian, toByteOffset: 2, as: UInt64.self)
            buffer.storeBytes(of: blockID.low.bigEndian, toByteOffset: 10, as: UInt64.self)
            buffer.storeBytes(of: index.littleEndian, toByteOffset: 18, as: UInt32.self)
            return try body(UnsafeRawBufferPointer(rebasing: buffer[0..<22]))
        }
    }
}
