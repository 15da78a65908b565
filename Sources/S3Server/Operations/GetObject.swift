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

    struct ObjectInfo: Sendable {
        var inode: InodeNumber
        var attributes: NodeAttributes
        var etag: String
        var metadata: ObjectMetadata
        var isDirectory: Bool
    }

    /// The object a key names, with its ETag (computed now if stale) and metadata.
    func objectInfo(bucket bucketName: String, _ path: ObjectPath) async throws -> ObjectInfo {
        let store = store
        let vault = vault
        return try await onVault {
            let bucket = try store.bucket(bucketName)
            guard let (inode, attributes) = try store.resolve(bucket, path) else {
                throw S3Error(.noSuchKey, "the key \"\(path.key)\" does not exist")
            }
            if path.isDirectory {
                return ObjectInfo(inode: inode, attributes: attributes, etag: StoredETag.empty, metadata: ObjectMetadata(), isDirectory: true)
            }
            return ObjectInfo(inode: inode, attributes: attributes, etag: try StoredETag.current(vault, inode, attributes),
                              metadata: try ObjectMetadata.load(vault, inode), isDirectory: false)
        }
    }

    func getObject(_ request: S3Request, _ path: ObjectPath, headOnly: Bool) async throws -> Response {
        let info = try await objectInfo(bucket: request.bucket, path)
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
