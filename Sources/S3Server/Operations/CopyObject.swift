import Hummingbird
import HTTPTypes
import Vault

/// CopyObject: the source is read and written again as a new object (the vault has no
/// block sharing between files yet), with the COPY or REPLACE metadata directive and the
/// x-amz-copy-source-if-* conditions. A directory key ("a/") copies to a directory key: the
/// directory is made and given the metadata (s3fs changes a directory's mode and times by
/// copying its "dir/" key onto itself with REPLACE).
extension S3Service {
    /// "/bucket/key" or "bucket/key" (URL-encoded, optionally "?versionId=null").
    static func copySource(_ request: S3Request) throws(S3Error) -> (bucket: String, path: ObjectPath) {
        guard var text = request.header("x-amz-copy-source") else { throw S3Error(.invalidArgument, "x-amz-copy-source is missing") }
        if let question = text.firstIndex(of: "?") {
            guard text[question...] == "?versionId=null" else {
                throw S3Error(.notImplemented, "copying a particular version is not supported (buckets are unversioned)")
            }
            text = String(text[..<question])
        }
        guard let decoded = PercentCoding.decode(text) else { throw S3Error(.invalidArgument, "x-amz-copy-source is not valid percent-encoded UTF-8") }
        let trimmed = decoded.hasPrefix("/") ? decoded.dropFirst() : decoded[...]
        guard let slash = trimmed.firstIndex(of: "/"), slash != trimmed.startIndex, trimmed.index(after: slash) != trimmed.endIndex else {
            throw S3Error(.invalidArgument, "x-amz-copy-source must be bucket/key")
        }
        return (String(trimmed[..<slash]), try ObjectPath(key: String(trimmed[trimmed.index(after: slash)...])))
    }

    func copyObject(_ request: S3Request, _ path: ObjectPath) async throws -> Response {
        let source = try Self.copySource(request)
        guard source.path.isDirectory == path.isDirectory else {
            throw S3Error(.invalidRequest, "a directory key (ending in \"/\") can only be copied to a directory key, and an object only to an object key")
        }
        let directive = request.header("x-amz-metadata-directive")?.uppercased() ?? "COPY"
        guard directive == "COPY" || directive == "REPLACE" else {
            throw S3Error(.invalidArgument, "x-amz-metadata-directive must be COPY or REPLACE")
        }
        let sameObject = source.bucket == request.bucket && source.path.key == path.key
        if sameObject && directive == "COPY" {
            throw S3Error(.invalidRequest, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
        }
        let info = try await objectInfo(bucket: source.bucket, source.path)
        try Preconditions(request, prefix: "x-amz-copy-source-").check(etag: info.etag, lastModified: HTTPDates.seconds(info.attributes.mtime),
                                                                         notModifiedIsFailure: true)
        let metadata = directive == "REPLACE" ? try ObjectMetadata(requestHeaders: request.headers) : info.metadata
        let store = store
        let vault = vault
        let bucketName = request.bucket
        let (etag, mtime) = try await onVault { () throws -> (String, Timestamp) in
            let bucket = try store.bucket(bucketName)
            try store.checkPlacement(bucket, path)
            if path.isDirectory {
                let directory = sameObject ? info.inode : try store.makeDirectories(bucket, path.components)
                try metadata.store(vault, directory)
                try vault.sync()
                store.onChange(.inode(directory))
                return (StoredETag.empty, try vault.attributes(directory).mtime)
            }
            if sameObject {
                // Only the metadata changes: no data is rewritten.
                try metadata.store(vault, info.inode)
                try vault.sync()
                store.onChange(.inode(info.inode))
                return (info.etag, info.attributes.mtime)
            }
            let pending = try PendingObject(store: store)
            do {
                let digest = try store.copyContent(from: info.inode, range: 0 ..< info.attributes.size, into: try pending.openHandle, at: 0)
                // A source whose ETag is a real MD5 keeps it; a multipart one becomes the MD5 of the content.
                let etag = Hex.encode(digest)
                try pending.seal(metadata: metadata, etag: etag)
                try pending.install(bucket: bucket, path).waitHere()
                return (etag, try vault.attributes(pending.file.inode).mtime)
            } catch {
                pending.discard()
                throw error
            }
        }
        var xml = XMLWriter(root: "CopyObjectResult")
        xml.element("LastModified", HTTPDates.iso8601(mtime))
        xml.element("ETag", Responses.quoted(etag))
        return Responses.xml(xml.finish())
    }
}

extension ObjectStore {
    /// Copies `range` of file `source` into `handle` at `offset`, a batch at a time; returns
    /// the MD5 of the bytes copied.
    func copyContent(from source: InodeNumber, range: Range<UInt64>, into handle: FileHandle, at offset: UInt64) throws -> [UInt8] {
        let reader = try vault.open(source)
        defer { try? vault.release(reader) }
        let digest = StreamingDigest(.md5)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: S3Service.readBatchBytes, alignment: 16)
        defer { buffer.deallocate() }
        var position = range.lowerBound
        while position < range.upperBound {
            let want = Int(min(UInt64(buffer.count), range.upperBound - position))
            let count = try vault.read(reader, at: position, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0 ..< want]))
            guard count > 0 else { throw S3Error(.internalError, "the copy source changed while it was being copied") }
            let bytes = UnsafeRawBufferPointer(rebasing: buffer[0 ..< count])
            try vault.write(handle, at: offset + (position - range.lowerBound), bytes)
            digest.update(bytes)
            position += UInt64(count)
        }
        return digest.finish()
    }
}
