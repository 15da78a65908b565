import Vault

/// Incomplete multipart uploads, kept in the work area outside every bucket
/// (docs/S3.md, "Multipart"): /.shardvault-s3/uploads/UPLOADID/ holds one file per part,
/// "part-00001" …, each with its MD5 in user.s3.etag; the directory's attributes record the
/// bucket, key, start time and the object's metadata (user.s3.*) for completion.
struct MultipartStore {
    let store: ObjectStore
    var vault: Vault { store.vault }

    static let bucketAttribute = "user.s3.upload.bucket"
    static let keyAttribute = "user.s3.upload.key"
    static let initiatedAttribute = "user.s3.upload.initiated"
    static let maximumPartNumber = 10000
    /// S3's minimum size of every part but the last.
    static let minimumPartBytes: UInt64 = 5 << 20

    struct Upload: Sendable {
        let id: String
        let directory: InodeNumber
        let bucket: String
        let key: String
        let initiated: Timestamp
    }

    struct Part: Sendable {
        let number: Int
        let inode: InodeNumber
        let size: UInt64
        let etag: String
        let mtime: Timestamp
    }

    static func partName(_ number: Int) -> String {
        let digits = String(number)
        return "part-" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    static func parsePartNumber(_ text: String) throws(S3Error) -> Int {
        guard let number = Int(text), (1 ... maximumPartNumber).contains(number) else {
            throw S3Error(.invalidArgument, "part number must be an integer between 1 and \(maximumPartNumber)")
        }
        return number
    }

    func uploadsDirectory() throws(S3Error) -> InodeNumber {
        try store.workDirectory(ObjectStore.uploadsDirectoryName)
    }

    /// Starts an upload; returns its id.
    func create(bucket: String, key: String, metadata: ObjectMetadata) throws(S3Error) -> String {
        let uploads = try uploadsDirectory()
        let id = Hex.encode((0 ..< 16).map { _ in UInt8.random(in: 0 ... 255) })
        do {
            let (directory, _) = try vault.mkdir(uploads, id, permissions: 0o700, uid: store.uid, gid: store.gid)
            try vault.setXattr(directory, Self.bucketAttribute, Array(bucket.utf8))
            try vault.setXattr(directory, Self.keyAttribute, Array(key.utf8))
            try vault.setXattr(directory, Self.initiatedAttribute, Array(String(Timestamp.now).utf8))
            try metadata.store(vault, directory)
            try vault.sync()
        } catch {
            throw S3Error(error)
        }
        return id
    }

    /// The upload `id`, which must belong to `bucket` and `key` when they are given.
    func upload(_ id: String, bucket: String? = nil, key: String? = nil) throws(S3Error) -> Upload {
        let missing = S3Error(.noSuchUpload, "the specified multipart upload does not exist; it may have been aborted or completed")
        guard id.utf8.count == 32, Hex.decode(id) != nil else { throw missing }
        do {
            let uploads = try uploadsDirectory()
            let (directory, _) = try vault.lookup(uploads, id)
            let upload = Upload(id: id, directory: directory,
                                bucket: String(decoding: try vault.getXattr(directory, Self.bucketAttribute), as: UTF8.self),
                                key: String(decoding: try vault.getXattr(directory, Self.keyAttribute), as: UTF8.self),
                                initiated: Int64(String(decoding: try vault.getXattr(directory, Self.initiatedAttribute), as: UTF8.self)) ?? 0)
            if let bucket, upload.bucket != bucket { throw missing }
            if let key, upload.key != key { throw missing }
            return upload
        } catch let error as S3Error {
            throw error
        } catch {
            throw missing
        }
    }

    func parts(of upload: Upload) throws(VaultError) -> [Part] {
        var parts: [Part] = []
        for entry in try vault.readdir(upload.directory, after: 0) {
            guard entry.kind == .regular, entry.name.hasPrefix("part-"), let number = Int(entry.name.dropFirst(5)) else { continue }
            let attributes = try vault.attributes(entry.inode)
            let etag = try StoredETag.current(vault, entry.inode, attributes)
            parts.append(Part(number: number, inode: entry.inode, size: attributes.size, etag: etag, mtime: attributes.mtime))
        }
        return parts.sorted { $0.number < $1.number }
    }

    /// Every upload in progress (for ListMultipartUploads and the age limit).
    func allUploads() throws(S3Error) -> [Upload] {
        let uploads = try uploadsDirectory()
        let entries: [NamedEntry]
        do {
            entries = try vault.readdir(uploads, after: 0)
        } catch {
            throw S3Error(error)
        }
        return entries.compactMap { try? upload($0.name) }
    }

    /// Removes an upload and its parts.
    func remove(_ upload: Upload) throws(S3Error) {
        let uploads = try uploadsDirectory()
        do {
            for entry in try vault.readdir(upload.directory, after: 0) {
                try vault.unlink(upload.directory, entry.name)
            }
            try vault.rmdir(uploads, upload.id)
        } catch {
            throw S3Error(error)
        }
    }

    /// Removes uploads started more than `maximumAge` seconds ago.
    func removeUploads(olderThan maximumAge: Int64) {
        guard let uploads = try? allUploads() else { return }
        let cutoff = Timestamp.now - maximumAge * 1_000_000_000
        for upload in uploads where upload.initiated < cutoff {
            try? remove(upload)
        }
    }
}
