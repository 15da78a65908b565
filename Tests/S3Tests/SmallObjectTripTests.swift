import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Testing
@testable import S3Server
import Vault

/// A small object's PUT and GET are one trip each to the vault threads (find, open, read, release at once);
/// the body, a range of it, and a large object read batch by batch stay as they were.
@Suite struct SmallObjectTripTests {
    struct Collector: ResponseBodyWriter {
        let sink: Sink
        final class Sink: @unchecked Sendable { var bytes: [UInt8] = [] }
        mutating func write(_ buffer: ByteBuffer) async throws { sink.bytes += buffer.readableBytesView }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    private static func request(_ method: HTTPRequest.Method, _ key: String, body: [UInt8] = [],
                                headers: HTTPFields = [:]) throws -> (S3Request, RequestBody) {
        var head = HTTPRequest(method: method, scheme: "http", authority: "127.0.0.1", path: "/bucket/" + key)
        head.headerFields = headers
        if method == .put { head.headerFields[.contentLength] = String(body.count) }
        let request = Request(head: head, body: RequestBody(buffer: ByteBuffer(bytes: body)))
        return (try S3Request(request, addressing: .pathStyleOnly), request.body)
    }

    private static let authentication = Authentication(
        accessKeyID: "test", access: .readWrite, payload: .unsigned,
        chunkSigning: ChunkSigningContext(key: [], amzDate: "", scope: "", seedSignature: ""))

    private static func get(_ service: S3Service, _ key: String, headers: HTTPFields = [:]) async throws -> (HTTPResponse.Status, [UInt8]) {
        let (request, _) = try Self.request(.get, key, headers: headers)
        let response = try await service.getObject(request, try ObjectPath(key: key), headOnly: false)
        let sink = Collector.Sink()
        try await response.body.write(Collector(sink: sink))
        return (response.status, sink.bytes)
    }

    @Test func smallPutsAndGetsAreOneVaultTripAndLargeOnesStream() async throws {
        let fixture = try InProcessTests.Fixture()
        try fixture.store.createBucket("bucket")
        let executor = VaultExecutor(threadCount: 2)
        let service = S3Service(vault: fixture.vault, credentials: [], executor: executor,
                                durabilityWaiters: DurabilityWaiters(threadCount: 4), multipartMaximumAge: 3600, observer: nil)
        let small = (0 ..< 5000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let large = (0 ..< (S3Service.smallObjectBytes + 1)).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        var before = executor.tripCount
        for (key, bytes) in [("small", small), ("large", large)] {
            let (request, body) = try Self.request(.put, key, body: bytes)
            _ = try await service.putObject(request, Self.authentication, try ObjectPath(key: key), body: body)
            if key == "small" { #expect(executor.tripCount - before == 1, "a small PUT is one trip (and one durability wait)") }
        }

        before = executor.tripCount
        let (status, body) = try await Self.get(service, "small")
        #expect(status == .ok && body == small)
        #expect(executor.tripCount - before == 1, "find, open, read and release in one trip")

        let (partial, range) = try await Self.get(service, "small", headers: [.range: "bytes=100-199"])
        #expect(partial == .partialContent && range == Array(small[100 ..< 200]))

        before = executor.tripCount
        let (largeStatus, largeBody) = try await Self.get(service, "large")
        #expect(largeStatus == .ok && largeBody == large)
        #expect(executor.tripCount - before > 1, "a large object is read batch by batch")
    }
}
