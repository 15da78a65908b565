import Foundation
import Testing
@testable import VaultCrypto

/// The ciphers are shared by all FUSE and S3 worker threads; pooled OpenSSL contexts must
/// never be used by two threads at once.
@Suite struct ConcurrencyTests {
    @Test(arguments: AEADAlgorithm.allCases)
    func eightThreadsSealAndOpenChunksAndNames(algorithm: AEADAlgorithm) throws {
        let keys = try MasterKeys.generate()
        let content = try ContentCipher(keys: keys, algorithm: algorithm)
        let names = try NameCipher(keys: keys)
        let failures = FailureCounter()
        let threads = 8
        let rounds = 300

        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            let block = BlockID(high: UInt64(thread), low: 0xB10C)
            let directory = DirectoryID(high: UInt64(thread), low: 0xD1)
            for round in 0..<rounds {
                let length = 1 + (round * 977) % ContentCipher.chunkSize
                let plaintext = (0..<length).map { UInt8(truncatingIfNeeded: $0 ^ thread ^ round) }
                do {
                    let sealed = try content.seal(plaintext, blockID: block, index: UInt32(round))
                    if try content.open(sealed, blockID: block, index: UInt32(round)) != plaintext { failures.record() }
                    let name = "file-\(thread)-\(round)-é"
                    let sealedName = try names.encrypt(name: name, parent: directory)
                    if try names.decrypt(sealedName, parent: directory) != name { failures.record() }
                } catch {
                    failures.record()
                }
            }
        }
        #expect(failures.count == 0)
    }
}

final class FailureCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var failures = 0

    func record() {
        lock.withLock { failures += 1 }
    }

    var count: Int {
        lock.withLock { failures }
    }
}
