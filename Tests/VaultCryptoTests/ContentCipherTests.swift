import Foundation
import Testing
import Buffers
@testable import VaultCrypto

@Suite struct ContentCipherTests {
    let keys: MasterKeys

    init() throws {
        keys = try MasterKeys.generate()
    }

    private func chunk(_ length: Int, seed: UInt8) -> [UInt8] {
        (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ Int(seed)) }
    }

    @Test(arguments: AEADAlgorithm.allCases)
    func roundTripsEveryChunkSize(algorithm: AEADAlgorithm) throws {
        let cipher = try ContentCipher(keys: keys, algorithm: algorithm)
        #expect(cipher.overhead == (algorithm == .aes256GCM ? 28 : 40))
        let block = BlockID.random()
        for length in [0, 1, 15, 16, 17, 4096, ContentCipher.chunkSize - 1, ContentCipher.chunkSize] {
            let plaintext = chunk(length, seed: 7)
            let sealed = try cipher.seal(plaintext, blockID: block, index: 3)
            #expect(sealed.count == length + cipher.overhead)
            #expect(try cipher.open(sealed, blockID: block, index: 3) == plaintext)
        }
    }

    @Test(arguments: AEADAlgorithm.allCases)
    func freshNoncePerSeal(algorithm: AEADAlgorithm) throws {
        let cipher = try ContentCipher(keys: keys, algorithm: algorithm)
        let block = BlockID.random()
        let first = try cipher.seal(chunk(100, seed: 1), blockID: block, index: 0)
        let second = try cipher.seal(chunk(100, seed: 1), blockID: block, index: 0)
        #expect(first[..<algorithm.nonceSize] != second[..<algorithm.nonceSize])
        #expect(first != second)
    }

    @Test(arguments: AEADAlgorithm.allCases)
    func everySingleByteTamperingIsDetected(algorithm: AEADAlgorithm) throws {
        let cipher = try ContentCipher(keys: keys, algorithm: algorithm)
        let block = BlockID.random()
        let sealed = try cipher.seal(chunk(48, seed: 9), blockID: block, index: 5)
        for (position, corrupted) in everySingleByteCorruption(of: sealed) {
            let error = failure { () throws(CryptoError) in try cipher.open(corrupted, blockID: block, index: 5) }
            #expect(isAuthenticationFailure(error), "byte \(position) corrupted gave \(String(describing: error))")
        }
        #expect(isAuthenticationFailure(failure { () throws(CryptoError) in try cipher.open(Array(sealed.dropLast()), blockID: block, index: 5) }))
        #expect(isAuthenticationFailure(failure { () throws(CryptoError) in try cipher.open(Array(sealed.prefix(10)), blockID: block, index: 5) }))
    }

    @Test(arguments: AEADAlgorithm.allCases)
    func swappedReorderedAndMovedChunksAreDetected(algorithm: AEADAlgorithm) throws {
        let cipher = try ContentCipher(keys: keys, algorithm: algorithm)
        let block = BlockID.random()
        let otherBlock = BlockID.random()
        let sealed = try (0..<4).map { try cipher.seal(chunk(1000, seed: UInt8($0)), blockID: block, index: UInt32($0)) }

        // Swapping chunks 1 and 2 within the block.
        #expect(isAuthenticationFailure(failure { () throws(CryptoError) in try cipher.open(sealed[2], blockID: block, index: 1) }))
        #expect(isAuthenticationFailure(failure { () throws(CryptoError) in try cipher.open(sealed[1], blockID: block, index: 2) }))
        // Reordering: every chunk at every wrong index fails; each at its own index opens.
        for (index, chunk) in sealed.enumerated() {
            for position in 0..<4 where position != index {
                #expect(isAuthenticationFailure(failure { () throws(CryptoError) in try cipher.open(chunk, blockID: block, index: UInt32(position)) }))
            }
            #expect(try cipher.open(chunk, blockID: block, index: UInt32(index)) == self.chunk(1000, seed: UInt8(index)))
        }
        // Moving (or replaying) a chunk into another block at the same index.
        let moved = failure { () throws(CryptoError) in try cipher.open(sealed[0], blockID: otherBlock, index: 0) }
        #expect(isAuthenticationFailure(moved))
        #expect(moved?.description.contains("chunk 0 of block \(otherBlock)") == true)
    }

    @Test func chunksDoNotOpenUnderAnotherKeyOrAlgorithm() throws {
        let gcm = try ContentCipher(keys: keys, algorithm: .aes256GCM)
        let otherKeys = try ContentCipher(keys: MasterKeys.generate(), algorithm: .aes256GCM)
        let block = BlockID.random()
        let sealed = try gcm.seal(chunk(64, seed: 2), blockID: block, index: 0)
        #expect(isAuthenticationFailure(failure { () throws(CryptoError) in try otherKeys.open(sealed, blockID: block, index: 0) }))
        let xchacha = try ContentCipher(keys: keys, algorithm: .xChaCha20Poly1305)
        #expect(isAuthenticationFailure(failure { () throws(CryptoError) in try xchacha.open(sealed, blockID: block, index: 0) }))
    }

    @Test func sizeLimitsAreEnforced() throws {
        let cipher = try ContentCipher(keys: keys, algorithm: .aes256GCM)
        let block = BlockID.random()
        let oversized = [UInt8](repeating: 1, count: ContentCipher.chunkSize + 1)
        #expect(failure { () throws(CryptoError) in try cipher.seal(oversized, blockID: block, index: 0) }
                == .chunkTooLarge(byteCount: ContentCipher.chunkSize + 1, limit: ContentCipher.chunkSize))
        var small = [UInt8](repeating: 0, count: 20)
        let error = failure { () throws(CryptoError) in
            try withBytes(of: [UInt8](repeating: 0, count: 10)) { (plain) throws(CryptoError) -> Int in
                try withMutableBytes(of: &small) { (out) throws(CryptoError) -> Int in
                    try cipher.sealChunk(plaintext: plain, blockID: block, index: 0, into: out)
                }
            }
        }
        #expect(error == .bufferTooSmall(needed: 38, available: 20))
    }

    @Test func worksInPooledChunkBuffers() throws {
        // The intended hot path: plaintext and sealed chunk both in ChunkBufferPool buffers.
        let cipher = try ContentCipher(keys: keys, algorithm: .preferredForThisMachine)
        let block = BlockID.random()
        let plain = ChunkBufferPool.take()
        let sealed = ChunkBufferPool.take()
        let back = ChunkBufferPool.take()
        let plainBytes = UnsafeMutableRawBufferPointer(rebasing: plain.bytes[..<ContentCipher.chunkSize])
        for offset in plainBytes.indices { plainBytes[offset] = UInt8(truncatingIfNeeded: offset) }
        let sealedCount = try cipher.sealChunk(plaintext: UnsafeRawBufferPointer(plainBytes), blockID: block, index: 9, into: sealed.bytes)
        let openedCount = try cipher.openChunk(sealed: UnsafeRawBufferPointer(rebasing: sealed.bytes[..<sealedCount]),
                                               blockID: block, index: 9, into: back.bytes)
        #expect(openedCount == ContentCipher.chunkSize)
        #expect(memcmp(plain.baseAddress, back.baseAddress, openedCount) == 0)
    }
}

@Suite struct MetadataCipherTests {
    @Test(arguments: AEADAlgorithm.allCases)
    func roundTripsAndBindsContext(algorithm: AEADAlgorithm) throws {
        let cipher = try MetadataCipher(keys: MasterKeys.generate(), algorithm: algorithm)
        let record = Array("mkdir /photos 0755".utf8)
        let context = MetadataContext(kind: 1, sequence: 1000)
        let sealed = try cipher.seal(record, context: context)
        #expect(sealed.count == record.count + algorithm.overhead)
        #expect(try cipher.open(sealed, context: context) == record)
        #expect(try cipher.open(cipher.seal([], context: context), context: context) == [])

        // Replay at another sequence number, or as another kind of record.
        #expect(isAuthenticationFailure(failure { () throws(CryptoError) in try cipher.open(sealed, context: MetadataContext(kind: 1, sequence: 1001)) }))
        #expect(isAuthenticationFailure(failure { () throws(CryptoError) in try cipher.open(sealed, context: MetadataContext(kind: 2, sequence: 1000)) }))

        for (position, corrupted) in everySingleByteCorruption(of: sealed) {
            let error = failure { () throws(CryptoError) in try cipher.open(corrupted, context: context) }
            #expect(isAuthenticationFailure(error), "byte \(position) corrupted gave \(String(describing: error))")
        }
        #expect(isAuthenticationFailure(failure { () throws(CryptoError) in try cipher.open([1, 2, 3], context: context) }))
    }

    @Test func largeRecordsRoundTrip() throws {
        let cipher = try MetadataCipher(keys: MasterKeys.generate(), algorithm: .aes256GCM)
        let checkpoint = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 >> 3) }
        let context = MetadataContext(kind: 7, sequence: 3)
        #expect(try cipher.open(cipher.seal(checkpoint, context: context), context: context) == checkpoint)
    }
}
