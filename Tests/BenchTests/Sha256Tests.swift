import Foundation
import Testing
@testable import shardvault_bench

/// FIPS 180-2 / NIST known answers for the bench's SHA-256 (backup manifests, workload checks).
@Suite struct Sha256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func knownAnswers(message: String, digest: String) {
        #expect(Sha256.hex(Sha256.hash(Array(message.utf8))) == digest)
    }

    @Test func millionAsInPiecesAndFromAFile() throws {
        let hasher = Sha256()
        let piece = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0 ..< 1000 { hasher.update(piece) }
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        #expect(Sha256.hex(hasher.finish()) == expected)

        let path = NSTemporaryDirectory() + "sha256-\(getpid())-\(UInt32.random(in: 0 ... .max)).bin"
        defer { unlink(path) }
        try WorkloadFiles.write(path, [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
        #expect(Sha256.hex(try Sha256.file(path)) == expected)
    }
}
