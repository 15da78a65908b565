import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Testing
@testable import S3Server
@testable import Vault

/// PUTs wait for durability (I4) off the vault threads (`DurabilityWaiters`), so concurrent
/// PUTs share journal commits instead of taking one commit each.
@Suite struct DurabilityWaitTests {
    private static func service(_ fixture: InProcessTests.Fixture, vaultThreads: Int) -> S3Service {
        S3Service(vault: fixture.vault, credentials: [], executor: VaultExecutor(threadCount: vaultThreads),
                  durabilityWaiters: DurabilityWaiters(threadCount: 32), multipartMaximumAge: 3600, observer: nil)
    }

    private static func put(_ service: S3Service, key: String, _ bytes: [UInt8]) async throws -> Response {
        var head = HTTPRequest(method: .put, scheme: "http", authority: "127.0.0.1", path: "/bucket/" + key)
        head.headerFields[.contentLength] = String(bytes.count)
        let request = Request(head: head, body: RequestBody(buffer: ByteBuffer(bytes: bytes)))
        let s3Request = try S3Request(request, addressing: .pathStyleOnly)
        let authentication = Authentication(accessKeyID: "test", access: .readWrite, payload: .unsigned,
                                            chunkSigning: ChunkSigningContext(key: [], amzDate: "", scope: "", seedSignature: ""))
        return try await service.putObject(s3Request, authentication, try ObjectPath(key: key), body: request.body)
    }

    /// With one vault thread, sixteen concurrent PUTs used to take one journal commit each
    /// (each held the thread through its sync, so the next could not even start). Waiting
    /// off the vault threads, they join each other's commits.
    @Test func concurrentPutsShareJournalCommits() async throws {
        let fixture = try InProcessTests.Fixture()
        try fixture.store.createBucket("bucket")
        try fixture.vault.sync()
        let service = Self.service(fixture, vaultThreads: 1)
        let before = fixture.vault.journal.currentPosition.nextSegment
        let count = 16
        try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
            for index in 0 ..< count {
                group.addTask { try await Self.put(service, key: "k\(index)", Array(repeating: UInt8(index), count: 4096)).status }
            }
            for try await status in group { #expect(status == .ok) }
        }
        let commits = fixture.vault.journal.currentPosition.nextSegment - before
        #expect(commits < UInt64(count) * 3 / 4, "\(commits) journal commits for \(count) PUTs")
        // Every acknowledged PUT is there, intact.
        let bucket = try fixture.store.bucket("bucket")
        for index in 0 ..< count {
            let (inode, attributes) = try #require(try fixture.store.resolve(bucket, try ObjectPath(key: "k\(index)")))
            #expect(attributes.size == 4096)
            let handle = try fixture.vault.open(inode)
            var read = [UInt8](repeating: 0, count: 4096)
            _ = try read.withUnsafeMutableBytes { try fixture.vault.read(handle, at: 0, into: $0) }
            try fixture.vault.release(handle)
            #expect(read == Array(repeating: UInt8(index), count: 4096))
        }
    }

    /// The wait itself needs no vault thread: it finishes while every vault thread is busy.
    @Test func aDurabilityWaitNeedsNoVaultThread() async throws {
        let fixture = try InProcessTests.Fixture()
        let executor = VaultExecutor(threadCount: 1)
        let gate = DispatchSemaphore(value: 0)
        let blocker = Task { try await executor.run { gate.wait() } }
        try fixture.store.createBucket("bucket")
        let waiters = DurabilityWaiters(threadCount: 2)
        try await waiters.wait(for: PendingDurability(fixture.vault))
        gate.signal()
        try await blocker.value
        await executor.shutdown()
        await waiters.shutdown()
    }
}
