import Hummingbird
import HTTPTypes
import Vault

/// ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, GetBucketVersioning.
extension S3Service {
    /// The region reported to clients; requests signed for any region are accepted.
    static let region = "us-east-1"

    func listBuckets() async throws -> Response {
        let store = store
        let buckets = try await onVault { try store.listBuckets() }
        var xml = XMLWriter(root: "ListAllMyBucketsResult")
        Self.writeOwner(&xml)
        xml.start("Buckets")
        for bucket in buckets {
            xml.start("Bucket")
            xml.element("Name", bucket.name)
            xml.element("CreationDate", HTTPDates.iso8601(bucket.created))
            xml.end()
        }
        xml.end()
        return Responses.xml(xml.finish())
    }

    func createBucket(_ request: S3Request, body: RequestBody) async throws -> Response {
        // The optional CreateBucketConfiguration only names a location constraint; any is accepted.
        let document = try await Self.collect(body, limit: 64 << 10)
        if !document.isEmpty { _ = try XMLElementNode.parse(document, root: "CreateBucketConfiguration") }
        let store = store
        let name = request.bucket
        try await onVault { try store.createBucket(name) }
        return Responses.empty(headers: [.location: "/" + name])
    }

    func headBucket(_ request: S3Request) async throws -> Response {
        let store = store
        let name = request.bucket
        _ = try await onVault { try store.bucket(name) }
        return Responses.empty(headers: [HTTPField.Name("x-amz-bucket-region")!: Self.region])
    }

    func deleteBucket(_ request: S3Request) async throws -> Response {
        let store = store
        let name = request.bucket
        try await onVault { try store.deleteBucket(name) }
        return Responses.empty(status: .noContent)
    }

    func getBucketLocation(_ request: S3Request) async throws -> Response {
        let store = store
        let name = request.bucket
        _ = try await onVault { try store.bucket(name) }
        // us-east-1 is reported as an empty LocationConstraint, as S3 does.
        var xml = XMLWriter(root: "LocationConstraint")
        return Responses.xml(xml.finish())
    }

    func getBucketVersioning(_ request: S3Request) async throws -> Response {
        let store = store
        let name = request.bucket
        _ = try await onVault { try store.bucket(name) }
        // Never versioned: an empty configuration, as for a bucket versioning was never enabled on.
        var xml = XMLWriter(root: "VersioningConfiguration")
        return Responses.xml(xml.finish())
    }
}
