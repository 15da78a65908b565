import Foundation
import Hummingbird
import HTTPTypes
import Vault

/// Multipart uploads: parts stream into the work area (like PutObject), Complete checks the
/// list and concatenates the parts into a new object whose ETag is MD5(part MD5s)-N.
extension S3Service {
    var multipart: MultipartStore { MultipartStore(store: store) }

    func createMultipartUpload(_ request: S3Request, _ path: ObjectPath) async throws -> Response {
        guard !path.isDirectory else { throw S3Error(.invalidRequest, "a key ending in \"/\" is a directory and cannot be uploaded in parts") }
        let metadata = try ObjectMetadata(requestHeaders: request.headers)
        let multipart = multipart
        let store = store
        let bucketName = request.bucket
        let id = try await onVault { () throws -> String in
            let bucket = try store.bucket(bucketName)
            try store.checkPlacement(bucket, path)
            return try multipart.create(bucket: bucketName, key: path.key, metadata: metadata)
        }
        var xml = XMLWriter(root: "InitiateMultipartUploadResult")
        xml.element("Bucket", bucketName)
        xml.element("Key", path.key)
        xml.element("UploadId", id)
        return Responses.xml(xml.finish())
    }

    func uploadPart(_ request: S3Request, _ authentication: Authentication, _ path: ObjectPath, uploadID: String,
                    partNumber: String, body: RequestBody) async throws -> Response {
        let number = try MultipartStore.parsePartNumber(partNumber)
        let expectations = try PayloadExpectations(request, authentication)
        let multipart = multipart
        let store = store
        let bucketName = request.bucket
        let (upload, pending) = try await onVault { () throws -> (MultipartStore.Upload, PendingObject) in
            (try multipart.upload(uploadID, bucket: bucketName, key: path.key), try PendingObject(store: store))
        }
        do {
            let receiver = UploadReceiver(vault: vault, executor: executor, expectations: expectations)
            let received = try await receiver.receive(body, into: try pending.openHandle)
            let etag = Hex.encode(received.md5)
            let change = try await onVault {
                try pending.seal(metadata: ObjectMetadata(), etag: etag)
                return try pending.install(at: upload.directory, MultipartStore.partName(number))
            }
            try await durabilityWaiters.wait(for: change)
            var headers: HTTPFields = [.eTag: Responses.quoted(etag)]
            if let checksum = expectations.headerChecksum, let name = HTTPField.Name(checksum.algorithm.headerName) {
                headers[name] = checksum.value
            }
            return Responses.empty(headers: headers)
        } catch {
            _ = try? await onVault { pending.discard() }
            throw error
        }
    }

    func uploadPartCopy(_ request: S3Request, _ path: ObjectPath, uploadID: String, partNumber: String) async throws -> Response {
        let number = try MultipartStore.parsePartNumber(partNumber)
        let source = try Self.copySource(request)
        let info = try await objectInfo(bucket: source.bucket, source.path)
        try Preconditions(request, prefix: "x-amz-copy-source-").check(etag: info.etag, lastModified: HTTPDates.seconds(info.attributes.mtime),
                                                                         notModifiedIsFailure: true)
        var range = 0 ..< info.attributes.size
        if let text = request.header("x-amz-copy-source-range") {
            guard let parsed = try ByteRange.parse(text, size: info.attributes.size), text.contains("-"), !text.hasPrefix("bytes=-") else {
                throw S3Error(.invalidArgument, "x-amz-copy-source-range must be bytes=FIRST-LAST within the source object")
            }
            range = parsed
        }
        let multipart = multipart
        let store = store
        let bucketName = request.bucket
        let copied = range
        let (etag, mtime) = try await onVault { () throws -> (String, Timestamp) in
            let upload = try multipart.upload(uploadID, bucket: bucketName, key: path.key)
            let pending = try PendingObject(store: store)
            do {
                let digest = try store.copyContent(from: info.inode, range: copied, into: try pending.openHandle, at: 0)
                let etag = Hex.encode(digest)
                try pending.seal(metadata: ObjectMetadata(), etag: etag)
                try pending.install(at: upload.directory, MultipartStore.partName(number)).waitHere()
                return (etag, try store.vault.attributes(pending.file.inode).mtime)
            } catch {
                pending.discard()
                throw error
            }
        }
        var xml = XMLWriter(root: "CopyPartResult")
        xml.element("LastModified", HTTPDates.iso8601(mtime))
        xml.element("ETag", Responses.quoted(etag))
        return Responses.xml(xml.finish())
    }

    func completeMultipartUpload(_ request: S3Request, _ path: ObjectPath, uploadID: String, body: RequestBody) async throws -> Response {
        let document = try XMLElementNode.parse(try await Self.collect(body, limit: 4 << 20), root: "CompleteMultipartUpload")
        var requested: [(number: Int, etag: String)] = []
        for part in document.children("Part") {
            guard let numberText = part.child("PartNumber")?.text.trimmingSpaces(), let number = Int(numberText),
                  let etag = part.child("ETag")?.text.trimmingSpaces() else {
                throw S3Error(.malformedXML, "every <Part> needs a <PartNumber> and an <ETag>")
            }
            requested.append((number, String(etag).replacingOccurrences(of: "\"", with: "")))
        }
        guard !requested.isEmpty else { throw S3Error(.malformedXML, "the part list is empty") }
        for index in requested.indices.dropFirst() where requested[index].number <= requested[index - 1].number {
            throw S3Error(.invalidPartOrder, "the list of parts was not in ascending order; parts must be ordered by part number")
        }
        let multipart = multipart
        let store = store
        let bucketName = request.bucket
        let wantedParts = requested
        let etag = try await onVault { () throws -> String in
            let bucket = try store.bucket(bucketName)
            let upload = try multipart.upload(uploadID, bucket: bucketName, key: path.key)
            let stored = Dictionary(try multipart.parts(of: upload).map { ($0.number, $0) }, uniquingKeysWith: { first, _ in first })
            var chosen: [MultipartStore.Part] = []
            for (index, wanted) in wantedParts.enumerated() {
                guard let part = stored[wanted.number], part.etag == wanted.etag else {
                    throw S3Error(.invalidPart, "part \(wanted.number) was not uploaded, or its ETag does not match")
                }
                if index < wantedParts.count - 1 && part.size < MultipartStore.minimumPartBytes {
                    throw S3Error(.entityTooSmall, "part \(wanted.number) is \(part.size) bytes; every part but the last needs at least 5 MiB")
                }
                chosen.append(part)
            }
            let metadata = try ObjectMetadata.load(store.vault, upload.directory)
            let pending = try PendingObject(store: store)
            let etag: String
            do {
                // The vault has no way to share blocks between files yet, so parts are copied.
                var offset: UInt64 = 0
                let partDigests = StreamingDigest(.md5)
                for part in chosen {
                    _ = try store.copyContent(from: part.inode, range: 0 ..< part.size, into: try pending.openHandle, at: offset)
                    partDigests.update(Hex.decode(part.etag) ?? [])
                    offset += part.size
                }
                etag = Hex.encode(partDigests.finish()) + "-\(chosen.count)"
                try pending.seal(metadata: metadata, etag: etag)
                try pending.install(bucket: bucket, path).waitHere()
            } catch {
                pending.discard()
                throw error
            }
            // The object is durable; a failure to tidy the parts only leaves them for the age limit.
            try? multipart.remove(upload)
            return etag
        }
        var xml = XMLWriter(root: "CompleteMultipartUploadResult")
        xml.element("Location", "/\(bucketName)/\(PercentCoding.encode(path.key, keepSlash: true))")
        xml.element("Bucket", bucketName)
        xml.element("Key", path.key)
        xml.element("ETag", Responses.quoted(etag))
        return Responses.xml(xml.finish())
    }

    func abortMultipartUpload(_ request: S3Request, _ path: ObjectPath, uploadID: String) async throws -> Response {
        let multipart = multipart
        let bucketName = request.bucket
        try await onVault {
            try multipart.remove(try multipart.upload(uploadID, bucket: bucketName, key: path.key))
            try multipart.store.vault.sync()
        }
        return Responses.empty(status: .noContent)
    }
}
