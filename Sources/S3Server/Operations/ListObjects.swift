import Foundation
import Hummingbird
import Vault

/// The parameters shared by ListObjects v1, v2 and ListObjectVersions.
struct ListingRequest {
    static let parameterNames: Set<String> = ["prefix", "delimiter", "marker", "max-keys", "encoding-type",
                                              "list-type", "continuation-token", "start-after", "fetch-owner",
                                              "key-marker", "version-id-marker", "versions", "x-id"]
    static let maximumKeys = 1000

    let prefix: String
    let delimiter: String?
    let maxKeys: Int
    let urlEncoded: Bool

    init(_ request: S3Request) throws(S3Error) {
        prefix = request.queryValue("prefix") ?? ""
        delimiter = request.queryValue("delimiter").flatMap { $0.isEmpty ? nil : $0 }
        if let text = request.queryValue("max-keys") {
            guard let value = Int(text), value >= 0 else { throw S3Error(.invalidArgument, "max-keys must be a non-negative integer") }
            maxKeys = min(value, Self.maximumKeys)
        } else {
            maxKeys = Self.maximumKeys
        }
        switch request.queryValue("encoding-type") {
        case nil: urlEncoded = false
        case "url": urlEncoded = true
        case let other?: throw S3Error(.invalidArgument, "invalid encoding-type \"\(other)\"; only \"url\" is supported")
        }
    }

    /// Keys in responses, URL-encoded when the client asked (keys with control characters
    /// cannot be carried in XML otherwise).
    func encode(_ key: String) -> String {
        urlEncoded ? PercentCoding.encode(key, keepSlash: true) : key
    }
}

/// ListObjects (v1), ListObjectsV2 and ListObjectVersions over `KeyWalker`.
extension S3Service {
    struct ListedObject: Sendable {
        var key: String
        var size: UInt64
        var mtime: Timestamp
        var etag: String
    }

    struct ListingPage: Sendable {
        var objects: [(ListedObject)]
        var commonPrefixes: [String]
        /// Objects and prefixes in listing order (for the next marker).
        var lastKey: String?
        var isTruncated: Bool
    }

    func listPage(bucket bucketName: String, _ listing: ListingRequest, marker: String?) async throws -> ListingPage {
        let store = store
        let vault = vault
        return try await onVault {
            let bucket = try store.bucket(bucketName)
            var walker = KeyWalker(vault: vault, prefix: listing.prefix, delimiter: listing.delimiter, marker: marker, limit: listing.maxKeys)
            try walker.walk(bucket: bucket)
            var page = ListingPage(objects: [], commonPrefixes: [], lastKey: walker.entries.last?.key, isTruncated: walker.isTruncated)
            for entry in walker.entries {
                switch entry {
                case let .object(key, inode, attributes):
                    let etag = try StoredETag.current(vault, inode, attributes)
                    page.objects.append(ListedObject(key: key, size: attributes.size, mtime: attributes.mtime, etag: etag))
                case let .commonPrefix(prefix):
                    page.commonPrefixes.append(prefix)
                }
            }
            return page
        }
    }

    func listObjectsV1(_ request: S3Request) async throws -> Response {
        let listing = try ListingRequest(request)
        let marker = request.queryValue("marker")
        let page = try await listPage(bucket: request.bucket, listing, marker: marker)
        var xml = XMLWriter(root: "ListBucketResult")
        xml.element("Name", request.bucket)
        xml.element("Prefix", listing.encode(listing.prefix))
        xml.element("Marker", listing.encode(marker ?? ""))
        xml.element("MaxKeys", listing.maxKeys)
        xml.optional("Delimiter", listing.delimiter.map(listing.encode))
        xml.element("IsTruncated", page.isTruncated)
        if listing.urlEncoded { xml.element("EncodingType", "url") }
        if page.isTruncated, let last = page.lastKey { xml.element("NextMarker", listing.encode(last)) }
        writeEntries(&xml, page, listing, owner: true)
        return Responses.xml(xml.finish())
    }

    func listObjectsV2(_ request: S3Request) async throws -> Response {
        let listing = try ListingRequest(request)
        let token = request.queryValue("continuation-token")
        let startAfter = request.queryValue("start-after")
        var marker = startAfter
        if let token {
            guard let data = Data(base64Encoded: token), let decoded = String(data: data, encoding: .utf8) else {
                throw S3Error(.invalidArgument, "the continuation token provided is incorrect")
            }
            marker = decoded
        }
        let page = try await listPage(bucket: request.bucket, listing, marker: marker)
        var xml = XMLWriter(root: "ListBucketResult")
        xml.element("Name", request.bucket)
        xml.element("Prefix", listing.encode(listing.prefix))
        xml.element("KeyCount", page.objects.count + page.commonPrefixes.count)
        xml.element("MaxKeys", listing.maxKeys)
        xml.optional("Delimiter", listing.delimiter.map(listing.encode))
        xml.element("IsTruncated", page.isTruncated)
        if listing.urlEncoded { xml.element("EncodingType", "url") }
        xml.optional("ContinuationToken", token)
        xml.optional("StartAfter", startAfter.map(listing.encode))
        if page.isTruncated, let last = page.lastKey {
            xml.element("NextContinuationToken", Data(last.utf8).base64EncodedString())
        }
        writeEntries(&xml, page, listing, owner: request.queryValue("fetch-owner") == "true")
        return Responses.xml(xml.finish())
    }

    /// Buckets are never versioned, so every object has one version, "null", the latest.
    func listObjectVersions(_ request: S3Request) async throws -> Response {
        let listing = try ListingRequest(request)
        let keyMarker = request.queryValue("key-marker")
        let page = try await listPage(bucket: request.bucket, listing, marker: keyMarker)
        var xml = XMLWriter(root: "ListVersionsResult")
        xml.element("Name", request.bucket)
        xml.element("Prefix", listing.encode(listing.prefix))
        xml.element("KeyMarker", listing.encode(keyMarker ?? ""))
        xml.element("VersionIdMarker", request.queryValue("version-id-marker") ?? "")
        xml.element("MaxKeys", listing.maxKeys)
        xml.optional("Delimiter", listing.delimiter.map(listing.encode))
        xml.element("IsTruncated", page.isTruncated)
        if listing.urlEncoded { xml.element("EncodingType", "url") }
        if page.isTruncated, let last = page.lastKey {
            xml.element("NextKeyMarker", listing.encode(last))
            xml.element("NextVersionIdMarker", "null")
        }
        for object in page.objects {
            xml.start("Version")
            xml.element("Key", listing.encode(object.key))
            xml.element("VersionId", "null")
            xml.element("IsLatest", true)
            xml.element("LastModified", HTTPDates.iso8601(object.mtime))
            xml.element("ETag", Responses.quoted(object.etag))
            xml.element("Size", object.size)
            Self.writeOwner(&xml)
            xml.element("StorageClass", "STANDARD")
            xml.end()
        }
        for prefix in page.commonPrefixes {
            xml.start("CommonPrefixes")
            xml.element("Prefix", listing.encode(prefix))
            xml.end()
        }
        return Responses.xml(xml.finish())
    }

    private func writeEntries(_ xml: inout XMLWriter, _ page: ListingPage, _ listing: ListingRequest, owner: Bool) {
        for object in page.objects {
            xml.start("Contents")
            xml.element("Key", listing.encode(object.key))
            xml.element("LastModified", HTTPDates.iso8601(object.mtime))
            xml.element("ETag", Responses.quoted(object.etag))
            xml.element("Size", object.size)
            if owner { Self.writeOwner(&xml) }
            xml.element("StorageClass", "STANDARD")
            xml.end()
        }
        for prefix in page.commonPrefixes {
            xml.start("CommonPrefixes")
            xml.element("Prefix", listing.encode(prefix))
            xml.end()
        }
    }
}
