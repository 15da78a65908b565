import Foundation
import Testing
@testable import VaultCrypto

@Suite struct NameCipherTests {
    let cipher: NameCipher
    let home = DirectoryID.random()
    let other = DirectoryID.random()

    init() throws {
        cipher = try NameCipher(keys: MasterKeys.generate())
    }

    @Test func roundTripsAndIsDeterministicWithinADirectory() throws {
        for name in ["a", "report.pdf", "Grüße aus Köln", "日本語のファイル名", "emoji 🧪.txt", String(repeating: "x", count: 255)] {
            let sealed = try cipher.encrypt(name: name, parent: home)
            #expect(sealed.count == name.precomposedUTF8Count + NameCipher.overhead)
            #expect(try cipher.encrypt(name: name, parent: home) == sealed)
            #expect(try cipher.decrypt(sealed, parent: home) == name.precomposedStringWithCanonicalMapping)
        }
    }

    @Test func sameNameInTwoDirectoriesDiffers() throws {
        let here = try cipher.encrypt(name: "notes.txt", parent: home)
        let there = try cipher.encrypt(name: "notes.txt", parent: other)
        #expect(here != there)
        // A listing entry moved to another directory does not decrypt there.
        #expect(isAuthenticationFailure(failure { () throws(CryptoError) in try cipher.decrypt(here, parent: other) }))
    }

    @Test func nfcAndNfdFormsEncryptIdentically() throws {
        let composed = "caf\u{E9}"          // é as one scalar
        let decomposed = "cafe\u{301}"      // e + combining acute
        #expect(Array(composed.utf8) != Array(decomposed.utf8))
        let fromComposed = try cipher.encrypt(name: composed, parent: home)
        #expect(try cipher.encrypt(name: decomposed, parent: home) == fromComposed)
        #expect(try cipher.decrypt(fromComposed, parent: home) == composed)
    }

    @Test func differentKeysGiveDifferentCiphertext() throws {
        let second = try NameCipher(keys: MasterKeys.generate())
        #expect(try cipher.encrypt(name: "x", parent: home) != second.encrypt(name: "x", parent: home))
    }

    @Test func everySingleByteTamperingIsDetected() throws {
        let sealed = try cipher.encrypt(name: "secret-plan.txt", parent: home)
        for (position, corrupted) in everySingleByteCorruption(of: sealed) {
            let error = failure { () throws(CryptoError) in try cipher.decrypt(corrupted, parent: home) }
            #expect(isAuthenticationFailure(error), "byte \(position) corrupted gave \(String(describing: error))")
        }
        // Truncated and extended forms too.
        #expect(isAuthenticationFailure(failure { () throws(CryptoError) in try cipher.decrypt(Array(sealed.dropLast()), parent: home) }))
        #expect(isAuthenticationFailure(failure { () throws(CryptoError) in try cipher.decrypt(sealed + [0], parent: home) }))
        #expect(isAuthenticationFailure(failure { () throws(CryptoError) in try cipher.decrypt(Array(sealed[..<16]), parent: home) }))
        #expect(isAuthenticationFailure(failure { () throws(CryptoError) in try cipher.decrypt([], parent: home) }))
    }

    @Test func nameLengthLimitIs255BytesAfterNormalisation() throws {
        #expect(failure { () throws(CryptoError) in try cipher.encrypt(name: String(repeating: "x", count: 256), parent: home) }
                == .nameTooLong(byteCount: 256, limit: 255))
        // 128 × "é" decomposed is 384 bytes but only 256 composed: still too long, by its NFC count.
        let decomposed = String(repeating: "e\u{301}", count: 128)
        #expect(failure { () throws(CryptoError) in try cipher.encrypt(name: decomposed, parent: home) }
                == .nameTooLong(byteCount: 256, limit: 255))
        // 127 of them is 254 bytes composed (381 decomposed) and fits.
        _ = try cipher.encrypt(name: String(repeating: "e\u{301}", count: 127), parent: home)
        #expect(CryptoError.nameTooLong(byteCount: 300, limit: 255).description.contains("name too long"))
    }

    @Test func emptyNameIsRefused() {
        guard case .invalidName = failure({ () throws(CryptoError) in try cipher.encrypt(name: "", parent: home) }) else {
            Issue.record("empty name was not refused")
            return
        }
    }

    @Test func bufferVariantsMatchArrayVariants() throws {
        var buffer = [UInt8](repeating: 0, count: NameCipher.maximumSealedBytes)
        let count = try buffer.withUnsafeMutableBytes { try cipher.encrypt(name: "inode.dat", parent: home, into: $0) }
        #expect(Array(buffer[..<count]) == (try cipher.encrypt(name: "inode.dat", parent: home)))
        var plain = [UInt8](repeating: 0, count: 255)
        let plainCount = try buffer.withUnsafeBytes { sealed in
            try plain.withUnsafeMutableBytes { try cipher.decrypt(UnsafeRawBufferPointer(rebasing: sealed[..<count]), parent: home, into: $0) }
        }
        #expect(Array(plain[..<plainCount]) == Array("inode.dat".utf8))
        var tooSmall = [UInt8](repeating: 0, count: 10)
        let error = failure { () throws(CryptoError) in
            try withMutableBytes(of: &tooSmall) { (out) throws(CryptoError) -> Int in try cipher.encrypt(name: "inode.dat", parent: home, into: out) }
        }
        #expect(error == .bufferTooSmall(needed: 25, available: 10))
    }
}

@Suite struct NameTextTests {
    @Test func base64urlWithoutPaddingRoundTrips() throws {
        for length in 0...40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 250) }
            let text = NameText.encode(bytes)
            #expect(text.count == NameText.encodedLength(byteCount: length))
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(try NameText.decode(text) == bytes)
        }
        #expect(NameText.encode([0xfb, 0xff]) == "-_8")
        #expect(NameText.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(NameText.encode(Array("fo".utf8)) == "Zm8")
    }

    @Test func nonCanonicalTextIsRejected() {
        for bad in ["Zm8=", "Zm+v", "Zm/v", "Z", "Zm 8", "Zm9", "Zm9\n"] {
            let error = failure { () throws(CryptoError) in try NameText.decode(bad) }
            guard case .invalidTextEncoding = error else {
                Issue.record("\(bad.debugDescription) was accepted or gave \(String(describing: error))")
                continue
            }
        }
    }
}

extension String {
    var precomposedUTF8Count: Int { precomposedStringWithCanonicalMapping.utf8.count }
}
