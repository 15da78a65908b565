import HTTPTypes
import Vault

/// The HTTP metadata of an object, kept as extended attributes of its file under user.s3.*
/// so mount users see them too (docs/S3.md, "Metadata as xattrs"):
/// user.s3.content-type, …, and user.s3.meta.NAME for each x-amz-meta-NAME.
struct ObjectMetadata: Sendable, Equatable {
    /// Headers that round-trip, with their attribute names.
    static let storedHeaders: [(header: String, attribute: String)] = [
        ("content-type", "user.s3.content-type"),
        ("content-encoding", "user.s3.content-encoding"),
        ("content-language", "user.s3.content-language"),
        ("content-disposition", "user.s3.content-disposition"),
        ("cache-control", "user.s3.cache-control"),
        ("expires", "user.s3.expires"),
    ]
    static let userMetadataPrefix = "x-amz-meta-"
    static let userMetadataAttributePrefix = "user.s3.meta."
    /// S3's limit on the user-defined metadata of one object.
    static let maximumUserMetadataBytes = 2048
    static let defaultContentType = "binary/octet-stream"

    /// Header name → value, lowercase names, for the headers above and x-amz-meta-*.
    var values: [String: String] = [:]

    init() {}

    /// From a PUT, Copy with REPLACE, or CreateMultipartUpload request.
    init(requestHeaders headers: HTTPFields) throws(S3Error) {
        var userBytes = 0
        for field in headers {
            let name = field.name.canonicalName
            if Self.storedHeaders.contains(where: { $0.header == name }) {
                values[name] = field.value
            } else if name.hasPrefix(Self.userMetadataPrefix), name.count > Self.userMetadataPrefix.count {
                userBytes += name.utf8.count - Self.userMetadataPrefix.utf8.count + field.value.utf8.count
                values[name] = values[name].map { $0 + "," + field.value } ?? field.value
            }
        }
        guard userBytes <= Self.maximumUserMetadataBytes else {
            throw S3Error(.metadataTooLarge, "the user-defined metadata is \(userBytes) bytes; the limit is \(Self.maximumUserMetadataBytes)")
        }
    }

    private static func attributeName(forHeader header: String) -> String? {
        if let stored = storedHeaders.first(where: { $0.header == header }) { return stored.attribute }
        if header.hasPrefix(userMetadataPrefix) { return userMetadataAttributePrefix + header.dropFirst(userMetadataPrefix.count) }
        return nil
    }

    private static func header(forAttribute attribute: String) -> String? {
        if let stored = storedHeaders.first(where: { $0.attribute == attribute }) { return stored.header }
        if attribute.hasPrefix(userMetadataAttributePrefix) { return userMetadataPrefix + attribute.dropFirst(userMetadataAttributePrefix.count) }
        return nil
    }

    /// Reads the attributes of `inode`.
    static func load(_ vault: Vault, _ inode: InodeNumber) throws(VaultError) -> ObjectMetadata {
        var metadata = ObjectMetadata()
        for attribute in try vault.listXattrs(inode) {
            guard let header = header(forAttribute: attribute) else { continue }
            guard let value = try? vault.getXattr(inode, attribute) else { continue }
            metadata.values[header] = String(decoding: value, as: UTF8.self)
        }
        return metadata
    }

    /// Replaces the metadata attributes of `inode` with these (ETag and others untouched).
    func store(_ vault: Vault, _ inode: InodeNumber) throws(VaultError) {
        for attribute in try vault.listXattrs(inode) where Self.header(forAttribute: attribute) != nil {
            if let header = Self.header(forAttribute: attribute), values[header] != nil { continue }
            try? vault.removeXattr(inode, attribute)
        }
        for (header, value) in values {
            guard let attribute = Self.attributeName(forHeader: header) else { continue }
            try vault.setXattr(inode, attribute, Array(value.utf8))
        }
    }

    /// Response headers for GET/HEAD: Content-Type always, the rest when stored.
    func responseHeaders(into fields: inout HTTPFields) {
        fields[.contentType] = values["content-type"] ?? Self.defaultContentType
        for (header, value) in values.sorted(by: { $0.key < $1.key }) where header != "content-type" {
            if let name = HTTPField.Name(header) { fields[name] = value }
        }
    }
}

/// The ETag kept with an object, with what its content was when it was computed: the size
/// and mtime. A file changed through the mount gets a new mtime, so a stale ETag is noticed
/// and recomputed (docs/S3.md, "ETags"). Stored as user.s3.etag = "1 ETAG SIZE MTIME_NS".
struct StoredETag: Sendable, Equatable {
    static let attribute = "user.s3.etag"
    static let formatVersion = "1"
    /// The MD5 of an empty object.
    static let empty = "d41d8cd98f00b204e9800998ecf8427e"

    var etag: String
    var size: UInt64
    var mtime: Timestamp

    var encoded: [UInt8] { Array("\(Self.formatVersion) \(etag) \(size) \(mtime)".utf8) }

    init(etag: String, size: UInt64, mtime: Timestamp) {
        self.etag = etag
        self.size = size
        self.mtime = mtime
    }

    init?(decoding bytes: [UInt8]) {
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: " ")
        guard parts.count == 4, parts[0] == Self.formatVersion, let size = UInt64(parts[2]), let mtime = Int64(parts[3]) else {
            return nil
        }
        self.init(etag: String(parts[1]), size: size, mtime: mtime)
    }

    func matches(_ attributes: NodeAttributes) -> Bool {
        attributes.size == size && attributes.mtime == mtime
    }

    /// The object's ETag (unquoted): the stored one while it matches the content, else the
    /// MD5 of the content, computed now and stored for next time.
    static func current(_ vault: Vault, _ inode: InodeNumber, _ attributes: NodeAttributes) throws(VaultError) -> String {
        if let bytes = try? vault.getXattr(inode, attribute), let stored = StoredETag(decoding: bytes), stored.matches(attributes) {
            return stored.etag
        }
        if attributes.size == 0 { return empty }
        let digest = StreamingDigest(.md5)
        let handle = try vault.open(inode)
        defer { try? vault.release(handle) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var offset: UInt64 = 0
        while true {
            let count = try vault.read(handle, at: offset, into: buffer)
            if count == 0 { break }
            digest.update(UnsafeRawBufferPointer(rebasing: buffer[0 ..< count]))
            offset += UInt64(count)
        }
        let etag = Hex.encode(digest.finish())
        // Read-only vaults and races with writers only cost a recomputation next time.
        if offset == attributes.size {
            try? vault.setXattr(inode, attribute, StoredETag(etag: etag, size: attributes.size, mtime: attributes.mtime).encoded)
        }
        return etag
    }
}
