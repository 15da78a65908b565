import Hummingbird
import NIOCore
import Vault

/// Streams a request body into an open vault file: decodes aws-chunked framing, computes the
/// MD5 (the ETag) and whatever else must be verified, and writes in batches on the vault
/// threads while the next batch is read from the network. At most two batches are held, and
/// the body is read only as fast as the vault takes it (backpressure), so memory does not
/// grow with the object's size.
///
/// A batch is the list of buffers NIO read from the socket (slices of them for aws-chunked
/// bodies), not one buffer they are copied into: the vault copies the bytes into its block
/// anyway, and the extra copy (into a buffer grown by doubling, fresh each batch) cost a
/// pass over every byte plus page faults.
struct UploadReceiver {
    let vault: Vault
    let executor: VaultExecutor
    let expectations: PayloadExpectations
    static let batchBytes = 1 << 20

    struct Result: Sendable {
        var md5: [UInt8]
        var length: UInt64
    }

    /// Receives the whole body into `handle` starting at offset 0, then checks it. Throws
    /// (leaving the file to the caller to discard) when anything does not match.
    ///
    /// The last batch's hashing overlaps the flush of the written bytes (encryption, erasure
    /// coding, shard writes): the MD5 of a 1 MiB body takes about as long as its seal, and
    /// nothing becomes visible before the caller has the verified digests anyway.
    func receive(_ body: RequestBody, into handle: FileHandle) async throws -> Result {
        let digests = UploadDigests(expectations)
        var payload = Payload(expectations)
        var batch = Batch()
        var offset: UInt64 = 0
        var pending: InFlight?
        /// Waits for the batch in flight, then sends `batch` on its way.
        func send() async throws {
            try await pending?.finish()
            pending = start(batch, at: offset, handle, digests)
            offset += UInt64(batch.bytes)
            batch = Batch()
        }
        do {
            for try await var buffer in body {
                try payload.add(&buffer, to: &batch, after: offset)
                if batch.bytes >= Self.batchBytes { try await send() }
            }
            if batch.bytes > 0 { try await send() }
            try payload.finish(total: offset)
            try await pending?.written.value
            let vault = vault
            async let flushed: Void = executor.run { try vault.flush(handle) }
            try await pending?.hashed.value
            pending = nil
            try await flushed
        } catch {
            await pending?.settle()
            throw error
        }
        return Result(md5: try digests.verify(expectations, trailers: payload.trailers), length: offset)
    }

    /// A body small enough to hold (`S3Service.smallObjectBytes`), received whole before
    /// anything is written: the PUT then needs one trip to the vault threads instead of four
    /// (`putSmallObject`). Framing and the declared length are checked as in `receive`.
    struct ReceivedBody: Sendable {
        let batch: Batch
        let trailers: [(name: String, value: String)]
    }

    func collect(_ body: RequestBody) async throws -> ReceivedBody {
        var payload = Payload(expectations)
        var batch = Batch()
        for try await var buffer in body {
            try payload.add(&buffer, to: &batch, after: 0)
        }
        try payload.finish(total: UInt64(batch.bytes))
        return ReceivedBody(batch: batch, trailers: payload.trailers)
    }

    /// A body's payload as its buffers arrive: aws-chunked framing removed, and held to the
    /// declared length — what `receive` and `collect` share.
    private struct Payload {
        private var parser: AwsChunkedParser?
        private let declaredLength: UInt64?

        init(_ expectations: PayloadExpectations) {
            parser = expectations.chunked.map { AwsChunkedParser(signing: $0.signing, expectsTrailer: $0.trailer) }
            declaredLength = expectations.length
        }

        /// Adds `buffer`'s payload to `batch`; `earlier` payload bytes were taken off before.
        mutating func add(_ buffer: inout ByteBuffer, to batch: inout Batch, after earlier: UInt64) throws {
            if parser != nil {
                batch.append(contentsOf: try parser!.feed(&buffer))
            } else {
                batch.append(buffer)
            }
            if let length = declaredLength, earlier + UInt64(batch.bytes) > length {
                throw S3Error(.invalidRequest, "the body is longer than its declared length \(length)")
            }
        }

        /// After the last buffer: the framing must be complete and `total` the declared length.
        mutating func finish(total: UInt64) throws {
            try parser?.finish()
            if let length = declaredLength, total != length {
                throw S3Error(.incompleteBody, "the body has \(total) bytes but \(length) were declared")
            }
        }

        var trailers: [(name: String, value: String)] { parser?.trailers ?? [] }
    }

    /// Writes a collected body into `handle` and checks its digests, on the calling (vault)
    /// thread; returns what `receive` would.
    func write(_ received: ReceivedBody, into handle: FileHandle) throws -> Result {
        let digests = UploadDigests(expectations)
        var position: UInt64 = 0
        for part in received.batch.parts {
            try part.withUnsafeReadableBytes { raw in
                try vault.write(handle, at: position, raw)
                digests.update(raw)
            }
            position += UInt64(part.readableBytes)
        }
        return Result(md5: try digests.verify(expectations, trailers: received.trailers), length: position)
    }

    /// One batch being written and hashed at the same time, on two vault threads.
    private struct InFlight {
        let written: Task<Void, any Error>
        let hashed: Task<Void, any Error>

        func finish() async throws {
            try await written.value
            try await hashed.value
        }

        /// Waits for both, whatever they throw (the body has failed already).
        func settle() async {
            _ = try? await written.value
            _ = try? await hashed.value
        }
    }

    private func start(_ batch: Batch, at offset: UInt64, _ handle: FileHandle, _ digests: UploadDigests) -> InFlight {
        let vault = vault
        let executor = executor
        let written = Task {
            try await executor.run {
                var position = offset
                for part in batch.parts {
                    try part.withUnsafeReadableBytes { raw in try vault.write(handle, at: position, raw) }
                    position += UInt64(part.readableBytes)
                }
            }
        }
        let hashed = Task {
            try await executor.run {
                for part in batch.parts { part.withUnsafeReadableBytes { digests.update($0) } }
            }
        }
        return InFlight(written: written, hashed: hashed)
    }

    /// Received payload not yet written, in order, as NIO handed it over.
    struct Batch: Sendable {
        private(set) var parts: [ByteBuffer] = []
        private(set) var bytes = 0

        mutating func append(_ part: ByteBuffer) {
            guard part.readableBytes > 0 else { return }
            parts.append(part)
            bytes += part.readableBytes
        }

        mutating func append(contentsOf parts: [ByteBuffer]) {
            for part in parts { append(part) }
        }
    }
}

/// The running digests of one upload. Updated by one batch at a time, in order.
final class UploadDigests: @unchecked Sendable {
    let md5 = StreamingDigest(.md5)
    let sha256: StreamingDigest?
    let checksum: PayloadChecksum?

    init(_ expectations: PayloadExpectations) {
        sha256 = expectations.sha256 == nil ? nil : StreamingDigest(.sha256)
        checksum = expectations.checksumAlgorithm.map(PayloadChecksum.init)
    }

    func update(_ bytes: UnsafeRawBufferPointer) {
        md5.update(bytes)
        sha256?.update(bytes)
        checksum?.update(bytes)
    }

    /// Checks every digest the client gave; returns the MD5.
    func verify(_ expectations: PayloadExpectations, trailers: [(name: String, value: String)]) throws(S3Error) -> [UInt8] {
        if let expected = expectations.sha256, let sha256, !constantTimeEquals(sha256.finish(), expected) {
            throw S3Error(.contentSHA256Mismatch, "the provided x-amz-content-sha256 does not match what was computed")
        }
        let md5 = md5.finish()
        if let expected = expectations.md5, expected != md5 {
            throw S3Error(.badDigest, "the Content-MD5 you specified did not match what we received")
        }
        if let checksum {
            let computed = checksum.finishBase64()
            let given = expectations.headerChecksum?.value
                ?? trailers.first(where: { $0.name == checksum.algorithm.headerName })?.value
            guard let given else {
                throw S3Error(.invalidRequest, "the trailer \(checksum.algorithm.headerName) announced in x-amz-trailer was not sent")
            }
            guard given == computed else {
                throw S3Error(.badDigest, "the \(checksum.algorithm.rawValue.uppercased()) you specified did not match the calculated checksum")
            }
        }
        return md5
    }
}
