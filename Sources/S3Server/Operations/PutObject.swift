import Hummingbird
import HTTPTypes
import Vault

/// PutObject: the body streams into a temporary file outside every bucket, is verified, gets
/// its metadata and ETag, and is then renamed over the key in one step.
extension S3Service {
    func putObject(_ request: S3Request, _ authentication: Authentication, _ path: ObjectPath, body: RequestBody) async throws -> Response {
        let expectations = try PayloadExpectations(request, authentication)
        let metadata = try ObjectMetadata(requestHeaders: request.headers)
        let store = store
        let bucketName = request.bucket
        if path.isDirectory {
            return try await putDirectory(bucketName, path, expectations, metadata)
        }
        if let length = expectations.length, length <= UInt64(Self.smallObjectBytes) {
            return try await putSmallObject(bucketName, path, body, expectations, metadata)
        }
        let (bucket, pending) = try await onVault { () throws -> (InodeNumber, PendingObject) in
            let bucket = try store.bucket(bucketName)
            try store.checkPlacement(bucket, path)
            return (bucket, try PendingObject(store: store))
        }
        do {
            let receiver = UploadReceiver(vault: vault, executor: executor, expectations: expectations)
            let received = try await receiver.receive(body, into: try pending.openHandle)
            let etag = Hex.encode(received.md5)
            let change = try await onVault {
                try pending.seal(metadata: metadata, etag: etag)
                return try pending.install(bucket: bucket, path)
            }
            try await durabilityWaiters.wait(for: change)
            return Self.stored(etag: etag, expectations)
        } catch {
            _ = try? await onVault { pending.discard() }
            throw error
        }
    }

    /// A small object (its declared length at most `smallObjectBytes`): the body is received
    /// first, then found a place for, written, verified, sealed and installed in one trip to
    /// the vault threads — a 4 KiB PUT made four (and a task of its own) the streaming way,
    /// each two thread wake-ups. Same checks and the same atomic install as `putObject`.
    private func putSmallObject(_ bucketName: String, _ path: ObjectPath, _ body: RequestBody,
                                _ expectations: PayloadExpectations, _ metadata: ObjectMetadata) async throws -> Response {
        let receiver = UploadReceiver(vault: vault, executor: executor, expectations: expectations)
        let received = try await receiver.collect(body)
        let store = store
        let (etag, change) = try await onVault { () throws -> (String, PendingDurability) in
            let bucket = try store.bucket(bucketName)
            try store.checkPlacement(bucket, path)
            let pending = try PendingObject(store: store)
            do {
                let etag = Hex.encode(try receiver.write(received, into: try pending.openHandle).md5)
                try pending.seal(metadata: metadata, etag: etag)
                return (etag, try pending.install(bucket: bucket, path))
            } catch {
                pending.discard()
                throw error
            }
        }
        try await durabilityWaiters.wait(for: change)
        return Self.stored(etag: etag, expectations)
    }

    /// The answer to a stored object: its ETag, and the checksum the client sent as a header.
    private static func stored(etag: String, _ expectations: PayloadExpectations) -> Response {
        var headers: HTTPFields = [.eTag: Responses.quoted(etag)]
        if let checksum = expectations.headerChecksum, let name = HTTPField.Name(checksum.algorithm.headerName) {
            headers[name] = checksum.value
        }
        return Responses.empty(headers: headers)
    }

    /// PUT "a/b/" makes the directory a/b (and its parents); it cannot carry data, but it
    /// keeps the metadata (x-amz-meta-*, Content-Type…) as an object would: s3fs keeps a
    /// directory's mode, owner and times there.
    private func putDirectory(_ bucketName: String, _ path: ObjectPath, _ expectations: PayloadExpectations,
                              _ metadata: ObjectMetadata) async throws -> Response {
        guard (expectations.length ?? 0) == 0 else {
            throw S3Error(.invalidRequest, "a key ending in \"/\" is a directory and cannot hold data")
        }
        let store = store
        let change = try await onVault {
            let bucket = try store.bucket(bucketName)
            let directory = try store.makeDirectories(bucket, path.components)
            try metadata.store(store.vault, directory)
            return PendingDurability(store.vault)
        }
        try await durabilityWaiters.wait(for: change)
        return Responses.empty(headers: [.eTag: Responses.quoted(StoredETag.empty)])
    }
}

extension ObjectStore {
    /// Refuses early (before any byte is received) a key that cannot be placed: a parent
    /// that is an object, or a directory where the object would go. Checked again on install.
    func checkPlacement(_ bucket: InodeNumber, _ path: ObjectPath) throws(S3Error) {
        var current = bucket
        for (index, component) in path.components.enumerated() {
            let found: (InodeNumber, NodeAttributes)
            do {
                found = try vault.lookup(current, component)
            } catch where error.code == .notFound {
                return
            } catch {
                throw S3Error(error)
            }
            let isLast = index == path.components.count - 1
            if !isLast && found.1.kind != .directory {
                throw S3Error(.parentIsObject, "\"\(path.components[0 ... index].joined(separator: "/"))\" is an object, so no key can continue below it")
            }
            if isLast && found.1.kind == .directory && !path.isDirectory {
                throw S3Error(.objectExistsAsDirectory, "the key names a directory (it has keys below it); an object cannot replace it")
            }
            current = found.0
        }
    }
}
