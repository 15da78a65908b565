import Foundation
import Testing
import Vault
@testable import S3Server

/// The stored key pairs over an in-process vault: a format-1 document as earlier versions
/// wrote it still opens, read-only pairs make it format 2, and removing the last one makes it
/// format 1 again (docs/S3.md, "Stored format").
@Suite struct S3CredentialStoreTests {
    /// The stored document, decoded as JSON.
    static func document(_ vault: Vault) throws -> [String: Any] {
        let bytes = try #require(try vault.storedS3Credentials())
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func aFormatOneDocumentFromEarlierVersionsStillOpens() throws {
        let fixture = try InProcessTests.Fixture()
        // Byte for byte what earlier versions stored (S3CredentialStore before read-only pairs).
        let old = #"{"format":1,"accessKeyID":"SVOLDOLDOLDOLDOLDOLD","secretAccessKey":"old-secret-0123456789abcdefghijklmnopqrstu","created":1700000000}"#
        try fixture.vault.storeS3Credentials(Array(old.utf8))
        let ring = try #require(try S3CredentialStore.loadKeyRing(from: fixture.vault))
        #expect(ring.readWrite == S3Credentials(accessKeyID: "SVOLDOLDOLDOLDOLDOLD",
                                                secretAccessKey: "old-secret-0123456789abcdefghijklmnopqrstu"))
        #expect(ring.readOnly.isEmpty)
        #expect(try S3CredentialStore.load(from: fixture.vault) == ring.readWrite)
        #expect(try S3CredentialStore.loadOrCreate(in: fixture.vault) == ring.readWrite, "nothing new is made")
    }

    @Test func readOnlyPairsAreFormatTwoAndTheLastRemovalGoesBackToFormatOne() throws {
        let fixture = try InProcessTests.Fixture()
        let vault = fixture.vault
        #expect(try S3CredentialStore.loadKeyRing(from: vault) == nil)
        // Adding to a vault without pairs makes the read-write one too.
        let first = try S3CredentialStore.addReadOnly(in: vault)
        #expect(first.access == .readOnly && first.accessKeyID.count == 20 && first.secretAccessKey.count == 40)
        let readWrite = try #require(try S3CredentialStore.load(from: vault))
        #expect(readWrite.access == .readWrite && readWrite.accessKeyID != first.accessKeyID)
        let second = try S3CredentialStore.addReadOnly(in: vault)
        #expect(try S3CredentialStore.loadKeyRing(from: vault) == S3KeyRing(readWrite: readWrite, readOnly: [first, second]))
        var stored = try Self.document(vault)
        #expect(stored["format"] as? Int == 2)
        #expect((stored["readOnly"] as? [[String: Any]])?.compactMap { $0["accessKeyID"] as? String } == [first.accessKeyID, second.accessKeyID])
        #expect((stored["readOnly"] as? [[String: Any]])?.allSatisfy { $0["created"] is Int } == true)

        // Rotating replaces the read-write pair only.
        let rotated = try S3CredentialStore.rotate(in: vault)
        #expect(rotated != readWrite)
        #expect(try S3CredentialStore.loadKeyRing(from: vault) == S3KeyRing(readWrite: rotated, readOnly: [first, second]))

        // Removal: unknown ids and the read-write pair are refused, changing nothing.
        #expect(throws: VaultError(.notFound, "the vault has no read-only S3 key pair with the access key SVNOSUCHKEY")) {
            try S3CredentialStore.removeReadOnly(accessKeyID: "SVNOSUCHKEY", in: vault)
        }
        #expect { try S3CredentialStore.removeReadOnly(accessKeyID: rotated.accessKeyID, in: vault) } throws: { error in
            (error as? VaultError)?.code == .invalidArgument
        }
        try S3CredentialStore.removeReadOnly(accessKeyID: first.accessKeyID, in: vault)
        #expect(try S3CredentialStore.loadKeyRing(from: vault) == S3KeyRing(readWrite: rotated, readOnly: [second]))
        try S3CredentialStore.removeReadOnly(accessKeyID: second.accessKeyID, in: vault)
        stored = try Self.document(vault)
        #expect(stored["format"] as? Int == 1 && stored["readOnly"] == nil, "readable by versions that know format 1 only: \(stored)")
        #expect(stored["accessKeyID"] as? String == rotated.accessKeyID)
        #expect(try S3CredentialStore.loadKeyRing(from: vault) == S3KeyRing(readWrite: rotated))
    }

    @Test func unknownFormatsAndDamageAreReportedNotGuessed() throws {
        let fixture = try InProcessTests.Fixture()
        try fixture.vault.storeS3Credentials(Array(#"{"format":3,"accessKeyID":"a","secretAccessKey":"b","created":0}"#.utf8))
        #expect { try S3CredentialStore.loadKeyRing(from: fixture.vault) } throws: { error in
            (error as? VaultError)?.code == .notSupported && "\(error)".contains("format 3")
        }
        try fixture.vault.storeS3Credentials(Array(#"{"format":2,"accessKeyID":"a"}"#.utf8))
        #expect { try S3CredentialStore.loadKeyRing(from: fixture.vault) } throws: { error in
            (error as? VaultError)?.code == .io
        }
    }
}
