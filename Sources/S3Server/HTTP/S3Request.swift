import HTTPTypes
import Hummingbird

/// One request as the S3 door sees it: its bucket and key (percent-decoded; from the path, or
/// the bucket from the host for virtual-host style, BucketAddressing), the query (decoded, in
/// order), and the path as sent, which is what the signature covers.
struct S3Request: Sendable {
    let method: HTTPRequest.Method
    let headers: HTTPFields
    /// The Host header (HTTP/1.1 carries it as the :authority pseudo-header in HTTPTypes).
    let host: String
    /// The path as decoded, starting with "/".
    let path: String
    let query: [(name: String, value: String)]
    /// Empty for the service (ListBuckets).
    let bucket: String
    /// Nil when the request addresses a bucket or the service; never empty otherwise.
    let key: String?
    /// The bucket came from the Host header (`BUCKET.DOMAIN`), not from the path.
    let isVirtualHost: Bool

    /// S3 keys are at most 1024 bytes of UTF-8.
    static let maximumKeyBytes = 1024

    init(_ request: Request, addressing: BucketAddressing) throws(S3Error) {
        method = request.method
        headers = request.headers
        host = request.head.authority ?? ""
        let target = request.head.path ?? "/"
        let rawPath: Substring
        let rawQuery: Substring
        if let mark = target.firstIndex(of: "?") {
            rawPath = target[..<mark]
            rawQuery = target[target.index(after: mark)...]
        } else {
            rawPath = target[...]
            rawQuery = ""
        }
        guard let path = PercentCoding.decode(rawPath), path.hasPrefix("/") else {
            throw S3Error(.invalidURI, "the request path is not valid percent-encoded UTF-8")
        }
        self.path = path
        var query: [(String, String)] = []
        for pair in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = PercentCoding.decode(parts[0]),
                  let value = parts.count > 1 ? PercentCoding.decode(parts[1]) : "" else {
                throw S3Error(.invalidURI, "the query string is not valid percent-encoded UTF-8")
            }
            query.append((name, value))
        }
        self.query = query
        (bucket, key, isVirtualHost) = addressing.resolve(host: host, path: path)
        if let key, key.utf8.count > Self.maximumKeyBytes {
            throw S3Error(.keyTooLong, "the key is \(key.utf8.count) bytes; the limit is \(Self.maximumKeyBytes)")
        }
    }

    func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    func hasQuery(_ name: String) -> Bool {
        query.contains { $0.name == name }
    }

    func header(_ name: String) -> String? {
        guard let field = HTTPField.Name(name) else { return nil }
        let values = headers[values: field]
        return values.isEmpty ? nil : values.joined(separator: ",")
    }

    /// "/bucket/key" for error documents, whichever the addressing style.
    var resource: String { isVirtualHost ? "/" + bucket + path : path }
}

/// Percent-decoding and SigV4's percent-encoding (RFC 3986 unreserved characters stay).
enum PercentCoding {
    /// Nil when an escape is malformed or the result is not UTF-8. "+" stays "+": S3 clients
    /// encode spaces as %20.
    static func decode(_ text: some StringProtocol) -> String? {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return String(text) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                      let value = Hex.decode(String(decoding: [high, low], as: UTF8.self))?.first else { return nil }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Every byte but A–Z a–z 0–9 - _ . ~ (and "/" when `keepSlash`) becomes %XX.
    static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var output = [UInt8]()
        output.reserveCapacity(text.utf8.count)
        let digits = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A") ... UInt8(ascii: "Z"), UInt8(ascii: "a") ... UInt8(ascii: "z"),
                 UInt8(ascii: "0") ... UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                 UInt8(ascii: "."), UInt8(ascii: "~"):
                output.append(byte)
            case UInt8(ascii: "/") where keepSlash:
                output.append(byte)
            default:
                output += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]]
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
