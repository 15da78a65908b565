import Testing
@testable import VaultCrypto

@Suite struct KeyFileTests {
    @Test func createThenUnlockGivesTheSameKeys() throws {
        let (file, keys) = try KeyFile.create(password: testPassword, strength: .test)
        let unlocked = try file.unlock(password: testPassword)
        #expect(try unlocked.hasSameKeys(as: keys))
        #expect(unlocked.purposes == [.names, .content, .metadata])
        try unlocked.withKey(.names) { (key) throws(CryptoError) in #expect(key.count == 64) }
        try unlocked.withKey(.content) { (key) throws(CryptoError) in #expect(key.count == 32) }
        try unlocked.withKey(.metadata) { (key) throws(CryptoError) in #expect(key.count == 32) }
    }

    @Test func serializedFileParsesBackEqualAndUnlocks() throws {
        let (file, keys) = try KeyFile.create(password: testPassword, strength: .test, contentAlgorithm: .xChaCha20Poly1305)
        let parsed = try KeyFile(parsing: file.serialized())
        #expect(parsed == file)
        #expect(parsed.contentAlgorithm == .xChaCha20Poly1305)
        #expect(parsed.serialized() == file.serialized())
        #expect(try parsed.unlock(password: testPassword).hasSameKeys(as: keys))
    }

    @Test func wrongPasswordIsReportedAsSuch() throws {
        let (file, _) = try KeyFile.create(password: testPassword, strength: .test)
        let error = failure { () throws(CryptoError) in try KeyFile(parsing: file.serialized()).unlock(password: Array("Correct horse battery staple".utf8)) }
        #expect(error == .wrongPassword)
        #expect(error?.description.contains("wrong password") == true)
    }

    @Test func emptyPasswordWorksAndDiffersFromOthers() throws {
        let (file, keys) = try KeyFile.create(password: [UInt8](), strength: .test)
        #expect(try file.unlock(password: [UInt8]()).hasSameKeys(as: keys))
        #expect(failure { () throws(CryptoError) in try file.unlock(password: [0]) } == .wrongPassword)
    }

    @Test func testStrengthIsRecordedAndReportedInsecure() throws {
        let (file, _) = try KeyFile.create(password: testPassword, strength: .test)
        let parsed = try KeyFile(parsing: file.serialized())
        #expect(parsed.strength == .test)
        #expect(parsed.isInsecure)
        #expect(parsed.kdf.opsLimit == KDFStrength.test.opsLimit && parsed.kdf.memLimit == KDFStrength.test.memLimit)
        #expect(KDFStrength.test.description.contains("INSECURE"))
        #expect(!KDFStrength.interactive.isInsecure && !KDFStrength.moderate.isInsecure && !KDFStrength.sensitive.isInsecure)
    }

    @Test func interactiveStrengthIsNotInsecure() throws {
        // One real (64 MiB) Argon2id run, to prove the presets are accepted end to end.
        let (file, keys) = try KeyFile.create(password: testPassword, strength: .interactive)
        #expect(!file.isInsecure)
        #expect(try KeyFile(parsing: file.serialized()).unlock(password: testPassword).hasSameKeys(as: keys))
    }

    @Test func rewrapKeepsMasterKeysAndRetiresTheOldPassword() throws {
        let (file, keys) = try KeyFile.create(password: testPassword, strength: .test)
        let metadata = try MetadataCipher(keys: keys, algorithm: file.contentAlgorithm)
        let context = MetadataContext(kind: 1, sequence: 42)
        let sealedBefore = try metadata.seal(Array("journal record".utf8), context: context)

        let newPassword = Array("tr0ub4dor&3".utf8)
        let rewrapped = try KeyFile(parsing: file.rewrapped(oldPassword: testPassword, newPassword: newPassword, strength: .test).serialized())
        #expect(rewrapped.kdf.salt != file.kdf.salt)
        #expect(rewrapped.contentAlgorithm == file.contentAlgorithm)

        let keysAfter = try rewrapped.unlock(password: newPassword)
        #expect(try keysAfter.hasSameKeys(as: keys))
        let reopened = try MetadataCipher(keys: keysAfter, algorithm: rewrapped.contentAlgorithm).open(sealedBefore, context: context)
        #expect(reopened == Array("journal record".utf8))

        let oldPasswordError = failure { () throws(CryptoError) in try rewrapped.unlock(password: testPassword) }
        #expect(oldPasswordError == .wrongPassword)
        #expect(oldPasswordError?.description.contains("wrong password") == true)
    }

    @Test func rewrapWithWrongOldPasswordFails() throws {
        let (file, _) = try KeyFile.create(password: testPassword, strength: .test)
        let error = failure { () throws(CryptoError) in
            try file.rewrapped(oldPassword: Array("nope".utf8), newPassword: Array("new".utf8), strength: .test)
        }
        #expect(error == .wrongPassword)
    }

    @Test func everySingleByteCorruptionIsDetected() throws {
        let (file, _) = try KeyFile.create(password: testPassword, strength: .test)
        let bytes = file.serialized()
        for (position, corrupted) in everySingleByteCorruption(of: bytes) {
            let error = failure { () throws(CryptoError) in try KeyFile(parsing: corrupted).unlock(password: testPassword) }
            guard case .damagedKeyFile = error else {
                Issue.record("byte \(position) corrupted gave \(String(describing: error)), expected damagedKeyFile")
                continue
            }
        }
    }

    @Test func truncatedAndExtendedFilesAreDamaged() throws {
        let bytes = try KeyFile.create(password: testPassword, strength: .test).0.serialized()
        for length in [0, 1, 8, 75, 76, bytes.count - 33, bytes.count - 1] {
            let error = failure { () throws(CryptoError) in try KeyFile(parsing: Array(bytes[..<length])) }
            guard case .damagedKeyFile = error else {
                Issue.record("truncation to \(length) gave \(String(describing: error))")
                continue
            }
        }
        let error = failure { () throws(CryptoError) in try KeyFile(parsing: bytes + [0]) }
        guard case .damagedKeyFile = error else { Issue.record("extension gave \(String(describing: error))"); return }
    }

    /// The header is the wrapping AEAD's associated data: an edit that also fixes the
    /// checksum (so it is not caught as damage) must still not unlock.
    @Test func headerEditsWithFixedChecksumDoNotUnlock() throws {
        let (file, _) = try KeyFile.create(password: testPassword, strength: .test)
        let bytes = file.serialized()
        let body = Array(bytes[..<(bytes.count - KeyFileCodec.checksumSize)])
        for position in 8..<(KeyFileCodec.headerSize + 4) {
            var edited = body
            edited[position] ^= 0x01
            edited += KeyFileCodec.checksum(of: edited)
            let error = failure { () throws(CryptoError) in try KeyFile(parsing: edited).unlock(password: testPassword) }
            #expect(error != nil, "header byte \(position) edited with a fixed checksum still unlocked")
        }
    }

    @Test func unknownVersionIsNamed() throws {
        let bytes = try KeyFile.create(password: testPassword, strength: .test).0.serialized()
        var body = Array(bytes[..<(bytes.count - KeyFileCodec.checksumSize)])
        body[8] = 2
        let error = failure { () throws(CryptoError) in try KeyFile(parsing: body + KeyFileCodec.checksum(of: body)) }
        #expect(error == .unsupportedKeyFileVersion(found: 2, supported: 1))
    }

    @Test func hostileKDFParametersAreRefusedBeforeRunning() throws {
        let bytes = try KeyFile.create(password: testPassword, strength: .test).0.serialized()
        var body = Array(bytes[..<(bytes.count - KeyFileCodec.checksumSize)])
        // Memory limit (offset 20) set to 2^56 bytes.
        body[27] = 1
        let error = failure { () throws(CryptoError) in try KeyFile(parsing: body + KeyFileCodec.checksum(of: body)) }
        guard case .damagedKeyFile(let reason) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(reason.contains("memory limit"))
    }

    @Test func notAKeyFile() {
        let error = failure { () throws(CryptoError) in try KeyFile(parsing: Array(repeating: 0x41, count: 200)) }
        guard case .damagedKeyFile = error else { Issue.record("got \(String(describing: error))"); return }
    }
}
