import CLibCrypto
import Foundation
import Testing
@testable import VaultCrypto

/// AESSIV is built from CMAC and CTR pieces; these tests hold it to OpenSSL's own
/// "AES-*-SIV" cipher (which wrote every name sealed before it) on random inputs, and
/// to RFC 4493's CMAC vectors for the piece underneath.
@Suite struct AESSIVCrossCheckTests {
    /// One random case: key, associated-data components, plaintext.
    struct Case: Sendable {
        let key: [UInt8]
        let associatedData: [[UInt8]]
        let plaintext: [UInt8]

        static func random(plaintextCount: Int, using generator: inout some RandomNumberGenerator) -> Case {
            let keySize = [32, 48, 64].randomElement(using: &generator)!
            // Component lengths cross the one-block and two-block boundaries of CMAC.
            let components = (0 ..< Int.random(in: 1...3, using: &generator)).map { _ in
                randomBytes(Int.random(in: 1...70, using: &generator), using: &generator)
            }
            return Case(key: randomBytes(keySize, using: &generator), associatedData: components,
                        plaintext: randomBytes(plaintextCount, using: &generator))
        }

        var description: String {
            "key \(key.hex) ad \(associatedData.map(\.hex)) plaintext \(plaintext.hex)"
        }
    }

    @Test func matchesOpenSSLSIVAndRejectsEverySingleByteTamper() throws {
        var generator = SystemRandomNumberGenerator()
        for plaintextCount in 1...300 {
            let test = Case.random(plaintextCount: plaintextCount, using: &generator)
            let siv = try test.key.withUnsafeBytes { try AESSIV(key: $0) }
            let sealed = try siv.seal(test.plaintext, associatedData: test.associatedData)
            let expected = try OpenSSLSIVReference.seal(test)
            #expect(sealed == expected, "\(test.description)")
            #expect(try siv.open(sealed, associatedData: test.associatedData) == test.plaintext, "\(test.description)")

            for (position, corrupted) in everySingleByteCorruption(of: sealed) {
                #expect(try siv.open(corrupted, associatedData: test.associatedData) == nil,
                        "byte \(position) flipped was accepted: \(test.description)")
            }
            // Associated data is authenticated too, component by component.
            var movedData = test.associatedData
            let component = Int.random(in: 0 ..< movedData.count, using: &generator)
            movedData[component][Int.random(in: 0 ..< movedData[component].count, using: &generator)] ^= 0x01
            #expect(try siv.open(sealed, associatedData: movedData) == nil, "\(test.description)")
            #expect(try siv.open(sealed, associatedData: Array(test.associatedData.dropLast())) == nil, "\(test.description)")
        }
    }

    @Test func rejectedOutputIsWiped() throws {
        var generator = SystemRandomNumberGenerator()
        let test = Case.random(plaintextCount: 40, using: &generator)
        let siv = try test.key.withUnsafeBytes { try AESSIV(key: $0) }
        var sealed = try siv.seal(test.plaintext, associatedData: test.associatedData)
        sealed[0] ^= 0x80
        var output = [UInt8](repeating: 0xEE, count: test.plaintext.count)
        let opened = try withComponents(test.associatedData) { components in
            try sealed.withUnsafeBytes { input in
                try output.withUnsafeMutableBytes { try siv.open(input, associatedData: components, into: $0) }
            }
        }
        #expect(opened == nil)
        #expect(output.allSatisfy { $0 == 0 })
    }

    @Test func eightThreadsShareOneInstance() throws {
        var generator = SystemRandomNumberGenerator()
        let key = randomBytes(64, using: &generator)
        let siv = try key.withUnsafeBytes { try AESSIV(key: $0) }
        // Expected outputs come from OpenSSL up front, so the threads only use AESSIV.
        let cases = (0 ..< 64).map { index in
            let test = Case.random(plaintextCount: 1 + index * 7, using: &generator)
            return Case(key: key, associatedData: test.associatedData, plaintext: test.plaintext)
        }
        let expected = try cases.map { try OpenSSLSIVReference.seal($0) }
        let failures = FailureCounter()

        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for round in 0 ..< 200 {
                let index = (round * 13 + thread * 5) % cases.count
                let test = cases[index]
                do {
                    let sealed = try siv.seal(test.plaintext, associatedData: test.associatedData)
                    if sealed != expected[index] { failures.record() }
                    if try siv.open(sealed, associatedData: test.associatedData) != test.plaintext { failures.record() }
                } catch {
                    failures.record()
                }
            }
        }
        #expect(failures.count == 0)
    }

    // MARK: AES-CMAC, RFC 4493 section 4

    @Test(arguments: [
        (0, "bb1d6929e95937287fa37d129b756746"),
        (16, "070a16b46b4d4144f79bdd9dd04a287c"),
        (40, "dfa66747de9ae63030ca32611497c827"),
        (64, "51f0bebf7e3b9d92fc49741779363cfe"),
    ])
    func rfc4493Examples(length: Int, tag: String) throws {
        let key = [UInt8](hex: "2b7e1516 28aed2a6 abf71588 09cf4f3c")
        let message = Array([UInt8](hex: """
            6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c 9eb76fac 45af8e51
            30c81c46 a35ce411 e5fbc119 1a0a52ef f69f2445 df4f9b17 ad2b417b e66c3710
            """)[..<length])
        let cmac = try key.withUnsafeBytes { try AESCMAC(key: $0) }
        let context = try cmac.makeContext()
        defer { CipherContextHandle.free(context) }
        var output = [UInt8](repeating: 0, count: 16)
        try message.withUnsafeBytes { input in
            try output.withUnsafeMutableBytes { try cmac.authenticate(input, context: context.pointer, tag: $0.baseAddress!) }
        }
        #expect(output == [UInt8](hex: tag))
    }

    @Test func doublingReducesWith0x87() {
        var block = [UInt8](hex: "80000000 00000000 00000000 00000001")
        block.withUnsafeMutableBytes { Block128.double($0.baseAddress!) }
        #expect(block == [UInt8](hex: "00000000 00000000 00000000 00000085"))
        block = [UInt8](hex: "40000000 00000000 80000000 00000000")
        block.withUnsafeMutableBytes { Block128.double($0.baseAddress!) }
        #expect(block == [UInt8](hex: "80000000 00000001 00000000 00000000"))
    }
}

// MARK: - Helpers

func randomBytes(_ count: Int, using generator: inout some RandomNumberGenerator) -> [UInt8] {
    (0 ..< count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

/// Runs `body` with the components as the raw-buffer list AESSIV takes.
func withComponents<Value>(_ components: [[UInt8]], _ body: (UnsafeBufferPointer<UnsafeRawBufferPointer>) throws -> Value) rethrows -> Value {
    // Each pointer stays valid while `components` is alive, which it is for the whole call.
    let buffers = components.map { component in
        component.withUnsafeBytes { UnsafeRawBufferPointer(start: $0.baseAddress, count: $0.count) }
    }
    return try buffers.withUnsafeBufferPointer { try body($0) }
}

extension AESSIV {
    func seal(_ plaintext: [UInt8], associatedData: [[UInt8]]) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: plaintext.count + Self.tagSize)
        let count = try withComponents(associatedData) { components in
            try plaintext.withUnsafeBytes { input in
                try output.withUnsafeMutableBytes { try seal(input, associatedData: components, into: $0) }
            }
        }
        precondition(count == output.count)
        return output
    }

    func open(_ sealed: [UInt8], associatedData: [[UInt8]]) throws -> [UInt8]? {
        var output = [UInt8](repeating: 0, count: max(sealed.count - Self.tagSize, 0))
        let count = try withComponents(associatedData) { components in
            try sealed.withUnsafeBytes { input in
                try output.withUnsafeMutableBytes { try open(input, associatedData: components, into: $0) }
            }
        }
        return count.map { Array(output[..<$0]) }
    }
}

/// OpenSSL's own AES-SIV, one fresh context per message: the reference AESSIV must match.
/// Test-only; production code must not use it (it allocates on every message).
enum OpenSSLSIVReference {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func seal(_ test: AESSIVCrossCheckTests.Case) throws -> [UInt8] {
        let name = "AES-\(test.key.count * 4)-SIV"
        guard let cipher = EVP_CIPHER_fetch(nil, name, nil) else { throw Failure(description: "no \(name)") }
        defer { EVP_CIPHER_free(cipher) }
        guard let context = EVP_CIPHER_CTX_new() else { throw Failure(description: "EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(context) }
        var output = [UInt8](repeating: 0, count: 16 + test.plaintext.count)
        var produced: Int32 = 0
        guard EVP_EncryptInit_ex2(context, cipher, test.key, nil, nil) == 1 else { throw Failure(description: "init") }
        for component in test.associatedData {
            guard EVP_EncryptUpdate(context, nil, &produced, component, Int32(component.count)) == 1 else {
                throw Failure(description: "associated data")
            }
        }
        let ok = output.withUnsafeMutableBufferPointer { out in
            EVP_EncryptUpdate(context, out.baseAddress! + 16, &produced, test.plaintext, Int32(test.plaintext.count)) == 1
                && EVP_EncryptFinal_ex(context, nil, &produced) == 1
                && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, 16, out.baseAddress) == 1
        }
        guard ok else { throw Failure(description: "encrypt") }
        return output
    }
}
