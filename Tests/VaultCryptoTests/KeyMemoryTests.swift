import Foundation
import Testing
@testable import VaultCrypto

@Suite struct KeyMemoryTests {
    @Test func closedKeysRefuseUseAndCiphersBuiltBeforeKeepWorking() throws {
        let keys = try MasterKeys.generate()
        let cipher = try ContentCipher(keys: keys, algorithm: .xChaCha20Poly1305)
        keys.close()
        keys.close()  // idempotent
        #expect(keys.isClosed)
        #expect(failure { () throws(CryptoError) in try keys.withKey(.content) { _ in 0 } } == .keysClosed)
        #expect(failure { () throws(CryptoError) in try NameCipher(keys: keys) } == .keysClosed)
        let block = BlockID.random()
        #expect(try cipher.open(cipher.seal([1, 2, 3], blockID: block, index: 0), blockID: block, index: 0) == [1, 2, 3])
    }

    @Test func comparingKeysWithThemselvesDoesNotDeadlock() throws {
        let keys = try MasterKeys.generate()
        #expect(try keys.hasSameKeys(as: keys))
        #expect(try !keys.hasSameKeys(as: MasterKeys.generate()))
    }

    @Test func missingPurposeIsNamed() throws {
        let keys = try MasterKeys.generate()
        let error = failure { () throws(CryptoError) in try keys.withKey(KeyPurpose(rawValue: 99)) { _ in 0 } }
        #expect(error == .missingKey(purpose: "purpose-99"))
    }

    @Test func keyListRoundTripKeepsUnknownPurposes() throws {
        // A future version's extra key survives parse → serialise unchanged.
        let keys = try MasterKeys.generate()
        let list = try keys.serializedKeyList()
        var bytes = list.withUnsafeBytes { Array($0) }
        bytes[0] += 1
        bytes += [0x2A, 0x00, 0x03, 0x00, 0xAA, 0xBB, 0xCC]
        let extended = try bytes.withUnsafeBytes { try MasterKeys.parse(keyList: $0) }
        #expect(extended.purposes == [.names, .content, .metadata, KeyPurpose(rawValue: 42)])
        try extended.withKey(KeyPurpose(rawValue: 42)) { (key) throws(CryptoError) in #expect(Array(key) == [0xAA, 0xBB, 0xCC]) }
        let again = try extended.serializedKeyList().withUnsafeBytes { Array($0) }
        #expect(again == bytes)
    }

    @Test func secureBytesReadPasswordFilesWithoutTheLineEnding() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vaultcrypto-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (content, expected) in [("hunter2\n", "hunter2"), ("hunter2\r\n", "hunter2"), ("hunter2", "hunter2"), ("two\n\n", "two\n"), ("", "")] {
            let path = directory.appendingPathComponent("pw").path
            try Data(content.utf8).write(to: URL(fileURLWithPath: path))
            let password = try SecureBytes(contentsOfPasswordFile: path)
            #expect(password.withUnsafeBytes { Array($0) } == Array(expected.utf8))
        }
        let missing = failure { () throws(CryptoError) in _ = try SecureBytes(contentsOfPasswordFile: directory.appendingPathComponent("nope").path) }
        guard case .passwordUnavailable(let source, _) = missing else { Issue.record("got \(String(describing: missing))"); return }
        #expect(source.contains("nope"))
        let huge = directory.appendingPathComponent("huge").path
        try Data(repeating: 0x61, count: 5000).write(to: URL(fileURLWithPath: huge))
        guard case .passwordUnavailable = failure({ () throws(CryptoError) in _ = try SecureBytes(contentsOfPasswordFile: huge) }) else {
            Issue.record("oversized password file accepted")
            return
        }
    }

    @Test func secureBytesFromEnvironment() throws {
        setenv("VAULTCRYPTO_TEST_PASSWORD", "from-env", 1)
        defer { unsetenv("VAULTCRYPTO_TEST_PASSWORD") }
        let password = try SecureBytes.fromEnvironment("VAULTCRYPTO_TEST_PASSWORD")
        #expect(password?.withUnsafeBytes { Array($0) } == Array("from-env".utf8))
        #expect(try SecureBytes.fromEnvironment("VAULTCRYPTO_TEST_UNSET_VARIABLE") == nil)
    }

    @Test func errorDescriptionsAreSpecific() {
        #expect(CryptoError.wrongPassword.description.contains("wrong password"))
        #expect(CryptoError.damagedKeyFile(reason: "checksum mismatch").description.contains("damaged key file"))
        #expect(!CryptoError.damagedKeyFile(reason: "x").description.contains("wrong password"))
        #expect(CryptoError.authenticationFailed(context: "chunk 1").description.contains("chunk 1"))
    }
}
