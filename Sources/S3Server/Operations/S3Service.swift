import Hummingbird
import NIOCore
import Vault

/// The S3 operations over one vault. Each operation lives in its own file as an extension;
/// this file holds what they share and the routing from request to operation.
final class S3Service: Sendable {
    let vault: Vault
    let store: ObjectStore
    let executor: VaultExecutor
    /// Where requests wait for their change to be durable, off the vault threads.
    let durabilityWaiters: DurabilityWaiters
    let verifier: SigV4Verifier
    let multipartMaximumAge: Int64
    /// Refuse every request that could change the vault (a read-only mount's S3 door).
    let readOnly: Bool
    /// How the bucket is found: path style, or virtual-host style under these domains.
    let addressing: BucketAddressing
    /// The host's FUSE mount of the same vault, told about every change (nil: S3 alone).
    let observer: (any VaultChangeObserver)?

    init(vault: Vault, credentials: [S3Credentials], executor: VaultExecutor, durabilityWaiters: DurabilityWaiters,
         multipartMaximumAge: Int64, readOnly: Bool = false, addressing: BucketAddressing = .pathStyleOnly,
         observer: (any VaultChangeObserver)?) {
        self.vault = vault
        self.executor = executor
        self.durabilityWaiters = durabilityWaiters
        store = ObjectStore(vault: vault, onChange: { observer?.vaultChanged($0) })
        verifier = SigV4Verifier(credentials: credentials)
        self.multipartMaximumAge = multipartMaximumAge
        self.readOnly = readOnly
        self.addressing = addressing
        self.observer = observer
    }

    /// Query parameters naming sub-resources this server does not implement; a request
    /// carrying one is NotImplemented rather than mistaken for a plain GET/PUT.
    static let unsupportedSubresources: Set<String> = [
        "acl", "policy", "policyStatus", "cors", "lifecycle", "tagging", "website", "logging", "notification",
        "replication", "encryption", "object-lock", "retention", "legal-hold", "requestPayment", "accelerate",
        "analytics", "inventory", "metrics", "ownershipControls", "publicAccessBlock", "intelligent-tiering",
        "select", "restore", "torrent", "attributes", "versionId", "renameObject", "session",
    ]

    func dispatch(_ request: S3Request, _ authentication: Authentication, body: RequestBody) async throws -> Response {
        try authorize(request, authentication)
        if let unsupported = request.query.first(where: { Self.unsupportedSubresources.contains($0.name) }) {
            // versionId=null is what tools send for unversioned objects.
            if !(unsupported.name == "versionId" && unsupported.value == "null") {
                throw S3Error(.notImplemented, "the \"\(unsupported.name)\" sub-resource is not implemented")
            }
        }
        if request.bucket.isEmpty {
            guard request.method == .get else { throw S3Error(.methodNotAllowed, "only GET (ListBuckets) is allowed on the service") }
            return try await listBuckets()
        }
        guard let key = request.key else { return try await dispatchBucket(request, authentication, body: body) }
        let path = try ObjectPath(key: key)
        let uploadID = request.queryValue("uploadId")
        switch request.method {
        case .put:
            if let uploadID, let partNumber = request.queryValue("partNumber") {
                if request.header("x-amz-copy-source") != nil {
                    return try await uploadPartCopy(request, path, uploadID: uploadID, partNumber: partNumber)
                }
                return try await uploadPart(request, authentication, path, uploadID: uploadID, partNumber: partNumber, body: body)
            }
            if request.header("x-amz-copy-source") != nil { return try await copyObject(request, path) }
            return try await putObject(request, authentication, path, body: body)
        case .get:
            if let uploadID { return try await listParts(request, path, uploadID: uploadID) }
            return try await getObject(request, path, headOnly: false)
        case .head:
            return try await getObject(request, path, headOnly: true)
        case .delete:
            if let uploadID { return try await abortMultipartUpload(request, path, uploadID: uploadID) }
            return try await deleteObject(request, path)
        case .post:
            if request.hasQuery("uploads") { return try await createMultipartUpload(request, path) }
            if let uploadID { return try await completeMultipartUpload(request, path, uploadID: uploadID, body: body) }
            throw S3Error(.notImplemented, "this POST on an object is not implemented")
        default:
            throw S3Error(.methodNotAllowed, "\(request.method) is not allowed on an object")
        }
    }

    private func dispatchBucket(_ request: S3Request, _ authentication: Authentication, body: RequestBody) async throws -> Response {
        switch request.method {
        case .get:
            if request.hasQuery("location") { return try await getBucketLocation(request) }
            if request.hasQuery("versioning") { return try await getBucketVersioning(request) }
            if request.hasQuery("versions") { return try await listObjectVersions(request) }
            if request.hasQuery("uploads") { return try await listMultipartUploads(request) }
            if request.queryValue("list-type") == "2" { return try await listObjectsV2(request) }
            if let other = request.query.first(where: { !ListingRequest.parameterNames.contains($0.name) }) {
                throw S3Error(.notImplemented, "the bucket sub-resource \"\(other.name)\" is not implemented")
            }
            return try await listObjectsV1(request)
        case .head:
            return try await headBucket(request)
        case .put:
            guard request.query.isEmpty else {
                throw S3Error(.notImplemented, "PUT on a bucket with \"\(request.query[0].name)\" is not implemented")
            }
            return try await createBucket(request, body: body)
        case .delete:
            guard request.query.isEmpty else {
                throw S3Error(.notImplemented, "DELETE on a bucket with \"\(request.query[0].name)\" is not implemented")
            }
            return try await deleteBucket(request)
        case .post:
            if request.hasQuery("delete") { return try await deleteObjects(request, body: body) }
            throw S3Error(.notImplemented, "this POST on a bucket is not implemented")
        default:
            throw S3Error(.methodNotAllowed, "\(request.method) is not allowed on a bucket")
        }
    }

    /// The one authorisation check, before any operation runs: when the vault is served
    /// read-only (`-o ro`) or the request is signed with a read-only key pair, only GET and
    /// HEAD pass (reads, listings, ListParts, ListMultipartUploads). Every PUT, POST and
    /// DELETE — objects, copies, multipart steps, DeleteObjects, buckets — is AccessDenied
    /// before its body is read or the vault is asked anything.
    func authorize(_ request: S3Request, _ authentication: Authentication) throws(S3Error) {
        guard !Self.leavesVaultAlone(request.method) else { return }
        if readOnly {
            throw S3Error(.accessDenied, "the vault is served read-only (mounted with -o ro)")
        }
        if authentication.access == .readOnly {
            throw S3Error(.accessDenied, "the access key \(authentication.accessKeyID) is read-only: it may only GET, HEAD and list")
        }
    }

    // MARK: Shared helpers

    /// GET and HEAD never change what a client or the mount can see (a lazily computed ETag
    /// is stored, but that is a cache).
    static func leavesVaultAlone(_ method: HTTPRequest.Method) -> Bool {
        method == .get || method == .head
    }

    /// After a request that may have changed the vault (even one that failed halfway, having
    /// made directories): waits until the mount's kernel caches have dropped what changed.
    func changesVisibleThroughMount(after method: HTTPRequest.Method) async {
        guard let observer, !Self.leavesVaultAlone(method) else { return }
        await observer.changesApplied()
    }

    /// Runs blocking vault work on the vault threads.
    func onVault<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await executor.run(body)
    }

    /// Reads a small request body (an XML document) with a size limit.
    static func collect(_ body: RequestBody, limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await buffer in body {
            guard bytes.count + buffer.readableBytes <= limit else {
                throw S3Error(.malformedXML, "the request document is larger than \(limit) bytes")
            }
            bytes += buffer.readableBytesView
        }
        return bytes
    }

    /// The owner shown in listings: the vault has one.
    static let ownerID = "shardvault"
    static let ownerName = "shardvault"

    static func writeOwner(_ xml: inout XMLWriter, element: String = "Owner") {
        xml.start(element)
        xml.element("ID", ownerID)
        xml.element("DisplayName", ownerName)
        xml.end()
    }
}
