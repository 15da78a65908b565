/// A key as a path below its bucket: "a/b/c.txt" is the file c.txt in directory a/b, and
/// "a/b/" is the directory a/b itself (docs/S3.md, "Keys and directories").
struct ObjectPath: Sendable, CustomStringConvertible {
    let key: String
    /// The directories, then (unless `isDirectory`) the file name.
    let components: [String]
    /// The key ends in "/".
    let isDirectory: Bool

    var description: String { key }
    var name: String { components.last! }
    var parents: ArraySlice<String> { components.dropLast() }

    /// Refuses keys the vault cannot hold as a path: empty components ("a//b", "/a"), "." and
    /// "..", NUL, or components over the vault's name limit.
    init(key: String) throws(S3Error) {
        guard !key.isEmpty else { throw S3Error(.invalidObjectName, "the key is empty") }
        guard !key.utf8.contains(0) else { throw S3Error(.invalidObjectName, "the key contains a NUL byte") }
        self.key = key
        isDirectory = key.hasSuffix("/")
        let body = isDirectory ? key.dropLast() : key[...]
        let parts = body.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for part in parts {
            if part.isEmpty {
                throw S3Error(.invalidObjectName, "the key \"\(key)\" has an empty path component (\"//\" or a leading \"/\")")
            }
            if part == "." || part == ".." {
                throw S3Error(.invalidObjectName, "the key \"\(key)\" has a \"\(part)\" path component, which a directory tree cannot hold")
            }
            if part.utf8.count > Self.maximumComponentBytes {
                throw S3Error(.keyTooLong, "the key component \"\(part.prefix(32))…\" is \(part.utf8.count) bytes; each component between slashes may have at most \(Self.maximumComponentBytes)")
            }
        }
        components = parts
    }

    /// The vault's limit on one name (NAME_MAX).
    static let maximumComponentBytes = 255
}

/// S3's bucket naming rules, checked when a bucket is created (existing top-level
/// directories made through the mount are served whatever their names).
enum BucketName {
    static func validate(_ name: String) throws(S3Error) {
        let bytes = Array(name.utf8)
        let allowed = bytes.allSatisfy { ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
            || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
        guard (3 ... 63).contains(bytes.count), allowed,
              let first = bytes.first, let last = bytes.last,
              isLetterOrDigit(first), isLetterOrDigit(last), !name.contains("..") else {
            throw S3Error(.invalidBucketName, "\"\(name)\" is not a valid bucket name: 3–63 characters of a–z, 0–9, \"-\" and \".\", starting and ending with a letter or digit")
        }
    }

    private static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}
