import Testing
@testable import VaultCrypto

/// Published vectors run through the same wrappers the vault uses.
@Suite struct KnownAnswerTests {
    // MARK: AES-SIV, RFC 5297 appendix A

    private func sivSeal(key: [UInt8], associatedData: [[UInt8]], plaintext: [UInt8]) throws -> [UInt8] {
        let siv = try key.withUnsafeBytes { try AESSIV(key: $0) }
        var output = [UInt8](repeating: 0, count: plaintext.count + AESSIV.tagSize)
        let components = associatedData.map { component in
            // Kept alive by `associatedData` for the duration of the call.
            component.withUnsafeBytes { UnsafeRawBufferPointer(start: $0.baseAddress, count: $0.count) }
        }
        let count = try components.withUnsafeBufferPointer { components in
            try plaintext.withUnsafeBytes { plain in
                try output.withUnsafeMutableBytes { out in try siv.seal(plain, associatedData: components, into: out) }
            }
        }
        #expect(count == output.count)
        // And back again through open.
        var reopened = [UInt8](repeating: 0, count: plaintext.count)
        let opened = try components.withUnsafeBufferPointer { components in
            try output.withUnsafeBytes { sealed in
                try reopened.withUnsafeMutableBytes { out in try siv.open(sealed, associatedData: components, into: out) }
            }
        }
        #expect(opened == plaintext.count && reopened == plaintext)
        return output
    }

    @Test func rfc5297DeterministicExampleA1() throws {
        let output = try sivSeal(
            key: [UInt8](hex: "fffefdfc fbfaf9f8 f7f6f5f4 f3f2f1f0 f0f1f2f3 f4f5f6f7 f8f9fafb fcfdfeff"),
            associatedData: [[UInt8](hex: "10111213 14151617 18191a1b 1c1d1e1f 20212223 24252627")],
            plaintext: [UInt8](hex: "11223344 55667788 99aabbcc ddee"))
        #expect(output == [UInt8](hex: "85632d07 c6e8f37f 950acd32 0a2ecc93 40c02b96 90c4dc04 daef7f6a fe5c"))
    }

    @Test func rfc5297NonceBasedExampleA2() throws {
        // The nonce is the last associated-data component, as RFC 5297 section 3 defines.
        let output = try sivSeal(
            key: [UInt8](hex: "7f7e7d7c 7b7a7978 77767574 73727170 40414243 44454647 48494a4b 4c4d4e4f"),
            associatedData: [
                [UInt8](hex: "00112233 44556677 8899aabb ccddeeff deaddada deaddada ffeeddcc bbaa9988 77665544 33221100"),
                [UInt8](hex: "10203040 50607080 90a0"),
                [UInt8](hex: "09f91102 9d74e35b d84156c5 635688c0"),
            ],
            plaintext: [UInt8](hex: """
                74686973 20697320 736f6d65 20706c61 696e7465 78742074 6f20656e 63727970
                74207573 696e6720 5349562d 414553
                """))
        #expect(output == [UInt8](hex: """
            7bdb6e3b 432667eb 06f4d14b ff2fbd0f cb900f2f ddbe4043 26601965 c889bf17
            dba77ceb 094fa663 b7a3f748 ba8af829 ea64ad54 4a272e9c 485b62a3 fd5c0d
            """))
    }

    // MARK: AES-256-GCM, McGrew–Viega test cases 13–16 (256-bit keys)

    private func gcmSeal(key: [UInt8], nonce: [UInt8], plaintext: [UInt8], associatedData: [UInt8]) throws -> [UInt8] {
        let sealer = try key.withUnsafeBytes { try AEADSealer(algorithm: .aes256GCM, key: $0) }
        var output = [UInt8](repeating: 0, count: plaintext.count + AEADAlgorithm.tagSize)
        try plaintext.withUnsafeBytes { plain in
            try associatedData.withUnsafeBytes { aad in
                try nonce.withUnsafeBytes { nonce in
                    try output.withUnsafeMutableBytes { out in
                        try sealer.seal(plain, associatedData: aad, nonce: nonce, ciphertextAndTag: out)
                    }
                }
            }
        }
        var reopened = [UInt8](repeating: 0, count: plaintext.count)
        let authentic = try output.withUnsafeBytes { sealed in
            try associatedData.withUnsafeBytes { aad in
                try nonce.withUnsafeBytes { nonce in
                    try reopened.withUnsafeMutableBytes { out in
                        try sealer.open(sealed, associatedData: aad, nonce: nonce, plaintext: out)
                    }
                }
            }
        }
        #expect(authentic && reopened == plaintext)
        return output
    }

    private let zeroKey = [UInt8](repeating: 0, count: 32)
    private let zeroNonce = [UInt8](repeating: 0, count: 12)
    private let key15 = [UInt8](hex: "feffe9928665731c6d6a8f9467308308 feffe9928665731c6d6a8f9467308308")
    private let nonce15 = [UInt8](hex: "cafebabefacedbaddecaf888")
    private let plaintext15 = [UInt8](hex: """
        d9313225f88406e5a55909c5aff5269a 86a7a9531534f7da2e4c303d8a318a72
        1c3c0c95956809532fcf0e2449a6b525 b16aedf5aa0de657ba637b391aafd255
        """)
    private let ciphertext15 = [UInt8](hex: """
        522dc1f099567d07f47f37a32a84427d 643a8cdcbfe5c0c97598a2bd2555d1aa
        8cb08e48590dbb3da7b08b1056828838 c5f61e6393ba7a0abcc9f662898015ad
        """)

    @Test func gcmTestCase13EmptyPlaintext() throws {
        let output = try gcmSeal(key: zeroKey, nonce: zeroNonce, plaintext: [], associatedData: [])
        #expect(output == [UInt8](hex: "530f8afbc74536b9a963b4f1c4cb738b"))
    }

    @Test func gcmTestCase14OneZeroBlock() throws {
        let output = try gcmSeal(key: zeroKey, nonce: zeroNonce, plaintext: [UInt8](repeating: 0, count: 16), associatedData: [])
        #expect(output == [UInt8](hex: "cea7403d4d606b6e074ec5d3baf39d18 d0d1c8a799996bf0265b98b5d48ab919"))
    }

    @Test func gcmTestCase15WithoutAssociatedData() throws {
        let output = try gcmSeal(key: key15, nonce: nonce15, plaintext: plaintext15, associatedData: [])
        #expect(output == ciphertext15 + [UInt8](hex: "b094dac5d93471bdec1a502270e3cc6c"))
    }

    @Test func gcmTestCase16WithAssociatedData() throws {
        let output = try gcmSeal(key: key15, nonce: nonce15, plaintext: Array(plaintext15[..<60]),
                                 associatedData: [UInt8](hex: "feedfacedeadbeeffeedfacedeadbeefabaddad2"))
        #expect(output == Array(ciphertext15[..<60]) + [UInt8](hex: "76fc6ece0f4e1768cddf8853bb2d551b"))
    }
}
