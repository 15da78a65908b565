import Hummingbird
import HTTPTypes
import NIOCore
import Vault

/// GetObject and HeadObject: metadata headers, conditional requests, one byte range, and a
/// body read from the vault a batch at a time as fast as the client takes it.
extension S3Service {
    static let readBatchBytes = 1 << 20

    /// Query parameters of a signed GET that override response headers.
    static let responseOverrides: [(query: String, header: HTTPField.Name)] = [
        ("response-content-type", .contentType),
        ("response-content-language", .contentLanguage),
        ("response-expires", .expires),
        ("response-cache-control", .cacheControl),
        ("response-content-disposition", .contentDisposition),
        ("response-content-encoding", .contentEncoding),
    ]

    /// Objects up to this size are read whole in the same vault call that finds them.
    static let smallObjectBytes = 256 << 10

    struct ObjectInfo: Sendable {
        var inode: InodeNumber
        var attributes: NodeAttributes
        var etag: String
        var metadata: ObjectMetadata
        var isDirectory: Bool
        /// The whole content, when asked for and the object is small (`smallObjectBytes`).
        var content: ByteBuffer?
    }

    /// The object a key names, with its ETag (computed now if stale) and metadata; with
    /// `readingSmallContent`, also the content of a small object. Why in one call: each trip
    /// to the vault threads and back is two thread wake-ups, and a small GET made four (find,
    /// open, read, release) — on a 2-core machine with 16 clients, context switches were the
    /// largest item of the daemon's profile. The content then also matches the ETag exactly.
    func objectInfo(bucket bucketName: String, _ path: ObjectPath, readingSmallContent: Bool = false) async throws -> ObjectInfo {
        let store = store
        let vault = vault
        return try await onVault {
            let bucket = try store.bucket(bucketName)
            guard let (inode, attributes) = try store.resolve(bucket, path) else {
                throw S3Error(.noSuchKey, "the key \"\(path.key)\" does not exist")
            }
            if path.isDirectory {
                return ObjectInfo(inode: inode, attributes: attributes, etag: StoredETag.empty,
                                  metadata: try ObjectMetadata.load(vault, inode), isDirectory: true)
            }
            var info = ObjectInfo(inode: inode, attributes: attributes, etag: try StoredETag.current(vault, inode, attributes),
                                  metadata: try ObjectMetadata.load(vault, inode), isDirectory: false)
            if readingSmallContent && attributes.size <= UInt64(Self.smallObjectBytes) {
                info.content = try Self.readWhole(vault, inode, size: Int(attributes.size))
            }
            return info
        }
    }

    /// The content of a small file, read at once on the calling (vault) thread. A file that
    /// no longer has `size` bytes changed meanwhile: the caller reads it batch by batch.
    private static func readWhole(_ vault: Vault, _ inode: InodeNumber, size: Int) throws -> ByteBuffer? {
        let handle = try vault.open(inode)
        defer { try? vault.release(handle) }
        var buffer = ByteBufferAllocator().buffer(capacity: size)
        let read = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            try vault.read(handle, at: 0, into: UnsafeMutableRawBufferPointer(rebasing: raw[0 ..< size]))
        }
        return read == size ? buffer : nil
    }

    func getObject(_ request: S3Request, _ path: ObjectPath, headOnly: Bool) async throws -> Response {
        let info = try await objectInfo(bucket: request.bucket, path, readingSmallContent: !headOnly)
        let lastModified = HTTPDates.seconds(info.attributes.mtime)
        try Preconditions(request).check(etag: info.etag, lastModified: lastModified)
        let size = info.isDirectory ? 0 : info.attributes.size
        if let partNumber = request.queryValue("partNumber"), partNumber != "1" {
            throw S3Error(.invalidArgument, "partNumber \(partNumber) does not exist; this object is served as one part")
        }
        let range = try ByteRange.parse(request.header("range"), size: size)
        var headers = HTTPFields()
        headers[.eTag] = Responses.quoted(info.etag)
        headers[.lastModified] = HTTPDates.httpDate(seconds: lastModified)
        headers[.acceptRanges] = "bytes"
        info.metadata.responseHeaders(into: &headers)
        for override in Self.responseOverrides {
            if let value = request.queryValue(override.query) { headers[override.header] = value }
        }
        let served = range ?? 0 ..< size
        headers[.contentLength] = String(served.count)
        var status = HTTPResponse.Status.ok
        if range != nil {
            status = .partialContent
            headers[.contentRange] = "bytes \(served.lowerBound)-\(served.upperBound - 1)/\(size)"
        }
        if headOnly || served.isEmpty {
            return Response(status: status, headers: headers)
        }
        if let content = info.content,
           let slice = content.getSlice(at: content.readerIndex + Int(served.lowerBound), length: served.count) {
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: slice))
        }
        return Response(status: status, headers: headers, body: body(inode: info.inode, range: served))
    }

    /// The content of `inode` in `range`, read in batches on the vault threads; each batch
    /// is written before the next is read, so the client's pace bounds the memory used.
    func body(inode: InodeNumber, range: Range<UInt64>) -> ResponseBody {
        let vault = vault
        let executor = executor
        return ResponseBody(contentLength: Int(range.count)) { writer in
            let handle = try await executor.run { try vault.open(inode) }
            do {
                var offset = range.lowerBound
                while offset < range.upperBound {
                    let count = Int(min(UInt64(Self.readBatchBytes), range.upperBound - offset))
                    let position = offset
                    let buffer = try await executor.run { () throws -> ByteBuffer in
                        var buffer = ByteBufferAllocator().buffer(capacity: count)
                        _ = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
                            try vault.read(handle, at: position, into: UnsafeMutableRawBufferPointer(rebasing: raw[0 ..< count]))
                        }
                        return buffer
                    }
                    guard buffer.readableBytes > 0 else {
                        // The object shrank while being sent; ending early makes the client see a short body.
                        throw S3Error(.internalError, "the object changed while it was being read")
                    }
                    offset += UInt64(buffer.readableBytes)
                    try await writer.write(buffer)
                }
                try await writer.finish(nil)
            } catch {
                _ = try? await executor.run { try vault.release(handle) }
                throw error
            }
            _ = try? await executor.run { try vault.release(handle) }
        }
    }
}
