import Foundation
import Testing
import Vault
import VaultCrypto
@testable import S3Server

/// The S3 door's pieces over an in-process vault: ETags noticed stale after a change made
/// as the mount would make it, the listing order, and the wire parsers.
@Suite struct InProcessTests {
    final class Fixture {
        let root: String
        let vault: Vault
        let store: ObjectStore
        var changes: [VaultChange] { recorder.changes }
        private let recorder = ChangeRecorder()

        init() throws {
            var template = Array((NSTemporaryDirectory() + "shardvault-s3unit-XXXXXX").utf8CString)
            root = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
            let password = Array("unit".utf8)
            try Vault.create(volumePaths: [root + "/v0"], dataShards: 1, parityShards: 0,
                             password: SecureBytes(copying: password), strength: .test)
            var options = Vault.Options()
            options.pool.healsInBackground = false
            options.commitInterval = 0.02
            vault = try Vault(volumePaths: [root + "/v0"], password: SecureBytes(copying: password), options: options)
            let recorder = recorder
            store = ObjectStore(vault: vault, onChange: { recorder.record($0) })
        }

        deinit {
            try? vault.close()
            try? FileManager.default.removeItem(atPath: root)
        }

        /// Writes a file the way the FUSE door does: through a handle, no S3 metadata.
        func writeThroughMount(_ parent: InodeNumber, _ name: String, _ bytes: [UInt8]) throws -> InodeNumber {
            let inode: InodeNumber
            if let existing = try? vault.lookup(parent, name) {
                inode = existing.0
                try vault.truncate(inode, to: 0)
            } else {
                inode = try vault.mknod(parent, name, kind: .regular, permissions: 0o644, uid: 0, gid: 0).0
            }
            let handle = try vault.open(inode)
            try bytes.withUnsafeBytes { try vault.write(handle, at: 0, $0) }
            try vault.release(handle)
            return inode
        }
    }

    final class ChangeRecorder: @unchecked Sendable {
        private let lock = NSLock()
        private var recorded: [VaultChange] = []
        var changes: [VaultChange] { lock.withLock { recorded } }
        func record(_ change: VaultChange) { lock.withLock { recorded.append(change) } }
    }

    static func md5(_ bytes: [UInt8]) -> String { Hex.encode(StreamingDigest.hash(.md5, bytes)) }

    @Test func etagOfAFileWrittenThroughTheMountIsComputedAndRefreshedAfterChanges() throws {
        let fixture = try Fixture()
        try fixture.store.createBucket("bucket")
        let bucket = try fixture.store.bucket("bucket")
        let inode = try fixture.writeThroughMount(bucket, "file", Array("first".utf8))
        let first = try StoredETag.current(fixture.vault, inode, try fixture.vault.attributes(inode))
        #expect(first == Self.md5(Array("first".utf8)))
        #expect(try StoredETag(decoding: fixture.vault.getXattr(inode, StoredETag.attribute))?.etag == first, "cached after the first access")
        usleep(2000)  // a later mtime, as any real rewrite has
        _ = try fixture.writeThroughMount(bucket, "file", Array("second!".utf8))
        let second = try StoredETag.current(fixture.vault, inode, try fixture.vault.attributes(inode))
        #expect(second == Self.md5(Array("second!".utf8)))
    }

    @Test func keyWalkerListsInUTF8ByteOrderAcrossDirectories() throws {
        let fixture = try Fixture()
        try fixture.store.createBucket("bucket")
        let bucket = try fixture.store.bucket("bucket")
        let keys = ["a.txt", "a/b", "a/c/d", "a-b", "a0", "ä", "B", "z/y/x"]
        for key in keys {
            let path = try ObjectPath(key: key)
            let directory = try fixture.store.makeDirectories(bucket, path.parents)
            _ = try fixture.writeThroughMount(directory, path.name, Array(key.utf8))
        }
        var walker = KeyWalker(vault: fixture.vault, prefix: "", delimiter: nil, marker: nil, limit: 1000)
        try walker.walk(bucket: bucket)
        let expected = keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        #expect(walker.entries.map(\.key) == expected)
        var page = KeyWalker(vault: fixture.vault, prefix: "", delimiter: "/", marker: "a.txt", limit: 2)
        try page.walk(bucket: bucket)
        #expect(page.entries.map(\.key) == ["a/", "a0"] && page.isTruncated)
        #expect(fixture.changes.contains(.entry(parent: bucket, name: "a")), "mkdir reports the parent it changed")
    }

    @Test func rangesFollowS3() throws {
        #expect(try ByteRange.parse("bytes=0-9", size: 100) == 0 ..< 10)
        #expect(try ByteRange.parse("bytes=90-", size: 100) == 90 ..< 100)
        #expect(try ByteRange.parse("bytes=-10", size: 100) == 90 ..< 100)
        #expect(try ByteRange.parse("bytes=-500", size: 100) == 0 ..< 100)
        #expect(try ByteRange.parse("bytes=5-2", size: 100) == nil)
        #expect(try ByteRange.parse("bytes=0-1,5-6", size: 100) == nil)
        #expect(try ByteRange.parse("items=0-1", size: 100) == nil)
        #expect(throws: S3Error.self) { try ByteRange.parse("bytes=100-", size: 100) }
        #expect(throws: S3Error.self) { try ByteRange.parse("bytes=0-", size: 0) }
    }

    @Test func keysTheTreeCannotHoldAreRefused() throws {
        for key in ["a//b", "/a", "a/./b", "../x", "a\u{0}b", String(repeating: "n", count: 256)] {
            #expect(throws: S3Error.self, "\(key)") { try ObjectPath(key: key) }
        }
        #expect(try ObjectPath(key: "a/b/").isDirectory)
        #expect(try ObjectPath(key: "a/b").components == ["a", "b"])
    }

    @Test func httpDatesRoundTrip() {
        let seconds: Int64 = 1_700_000_000
        let text = HTTPDates.httpDate(seconds: seconds)
        #expect(text == "Tue, 14 Nov 2023 22:13:20 GMT")
        #expect(HTTPDates.parseHTTPDate(text) == seconds)
        #expect(HTTPDates.parseAmzDate("20231114T221320Z") == seconds)
        #expect(SigV4Verifier.amzDate(fromHTTPDate: text) == "20231114T221320Z")
        #expect(HTTPDates.iso8601(seconds * 1_000_000_000 + 123_000_000) == "2023-11-14T22:13:20.123Z")
    }

    @Test func checksumsMatchKnownValues() {
        let bytes = Array("123456789".utf8)
        for (algorithm, expected) in [(ChecksumAlgorithm.crc32, "y/Q5Jg=="), (.crc32c, "4waSgw==")] {
            let checksum = PayloadChecksum(algorithm)
            bytes.withUnsafeBytes { checksum.update($0) }
            #expect(checksum.finishBase64() == expected)
        }
        #expect(Hex.encode(HMACSHA256.mac(key: Array("key".utf8), "The quick brown fox jumps over the lazy dog"))
            == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
    }
}
