import Hummingbird
import Vault

/// ListParts and ListMultipartUploads.
extension S3Service {
    func listParts(_ request: S3Request, _ path: ObjectPath, uploadID: String) async throws -> Response {
        let maxParts = try Self.limit(request.queryValue("max-parts"), name: "max-parts")
        let marker = Int(request.queryValue("part-number-marker") ?? "0") ?? 0
        let multipart = multipart
        let bucketName = request.bucket
        let parts = try await onVault { () throws -> [MultipartStore.Part] in
            try multipart.parts(of: try multipart.upload(uploadID, bucket: bucketName, key: path.key))
        }
        let after = parts.filter { $0.number > marker }
        let page = after.prefix(maxParts)
        var xml = XMLWriter(root: "ListPartsResult")
        xml.element("Bucket", bucketName)
        xml.element("Key", path.key)
        xml.element("UploadId", uploadID)
        Self.writeOwner(&xml, element: "Initiator")
        Self.writeOwner(&xml)
        xml.element("StorageClass", "STANDARD")
        xml.element("PartNumberMarker", marker)
        if let last = page.last { xml.element("NextPartNumberMarker", last.number) }
        xml.element("MaxParts", maxParts)
        xml.element("IsTruncated", after.count > page.count)
        for part in page {
            xml.start("Part")
            xml.element("PartNumber", part.number)
            xml.element("LastModified", HTTPDates.iso8601(part.mtime))
            xml.element("ETag", Responses.quoted(part.etag))
            xml.element("Size", part.size)
            xml.end()
        }
        return Responses.xml(xml.finish())
    }

    func listMultipartUploads(_ request: S3Request) async throws -> Response {
        let maxUploads = try Self.limit(request.queryValue("max-uploads"), name: "max-uploads")
        let prefix = request.queryValue("prefix") ?? ""
        let keyMarker = request.queryValue("key-marker") ?? ""
        let uploadIDMarker = request.queryValue("upload-id-marker") ?? ""
        let multipart = multipart
        let store = store
        let bucketName = request.bucket
        let uploads = try await onVault { () throws -> [MultipartStore.Upload] in
            _ = try store.bucket(bucketName)
            return try multipart.allUploads().filter { $0.bucket == bucketName && $0.key.hasPrefix(prefix) }
        }
        // Ordered by key (UTF-8 bytes), then by start time, as S3 lists them.
        let ordered = uploads.sorted {
            $0.key != $1.key ? $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) : ($0.initiated, $0.id) < ($1.initiated, $1.id)
        }
        let after = ordered.filter { upload in
            guard !keyMarker.isEmpty else { return true }
            if upload.key == keyMarker { return !uploadIDMarker.isEmpty && upload.id > uploadIDMarker }
            return KeyWalker.isAfter(upload.key, keyMarker)
        }
        let page = after.prefix(maxUploads)
        var xml = XMLWriter(root: "ListMultipartUploadsResult")
        xml.element("Bucket", bucketName)
        xml.element("KeyMarker", keyMarker)
        xml.element("UploadIdMarker", uploadIDMarker)
        if after.count > page.count, let last = page.last {
            xml.element("NextKeyMarker", last.key)
            xml.element("NextUploadIdMarker", last.id)
        }
        xml.element("Prefix", prefix)
        xml.element("MaxUploads", maxUploads)
        xml.element("IsTruncated", after.count > page.count)
        for upload in page {
            xml.start("Upload")
            xml.element("Key", upload.key)
            xml.element("UploadId", upload.id)
            Self.writeOwner(&xml, element: "Initiator")
            Self.writeOwner(&xml)
            xml.element("StorageClass", "STANDARD")
            xml.element("Initiated", HTTPDates.iso8601(upload.initiated))
            xml.end()
        }
        return Responses.xml(xml.finish())
    }

    /// max-parts / max-uploads: 0…1000, default 1000.
    static func limit(_ text: String?, name: String) throws(S3Error) -> Int {
        guard let text else { return 1000 }
        guard let value = Int(text), value >= 0 else { throw S3Error(.invalidArgument, "\(name) must be a non-negative integer") }
        return min(value, 1000)
    }
}
