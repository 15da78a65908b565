/// The one place where a request's bucket and key are found (docs/S3.md, "Addressing").
///
/// - Path style, always: `Host: anything`, path `/BUCKET/KEY`.
/// - Virtual-host style, when the host names a bucket under one of the configured base
///   domains (as MinIO's `MINIO_DOMAIN`): `Host: BUCKET.DOMAIN[:PORT]`, path `/KEY`.
///
/// A host that is the bare domain, an IP address, or under no configured domain is path
/// style; with no domain configured every request is. Either way the path stays the one the
/// client sent, which is what SigV4 signs (the bucket travels in the signed host header).
public struct BucketAddressing: Sendable, Equatable {
    /// Lowercase DNS names without a trailing dot, longest first (so `s3.example.test` wins
    /// over `example.test` for `b.s3.example.test`).
    public let domains: [String]

    /// No base domain: path style only.
    public static let pathStyleOnly = BucketAddressing(normalised: [])

    /// Checks and normalises `domains` (case, a trailing dot, duplicates); throws on the
    /// first that is not a DNS name.
    public init(domains: [String]) throws(BucketAddressingError) {
        var normalised: [String] = []
        for domain in domains {
            let name = try Self.normalise(domain)
            if !normalised.contains(name) { normalised.append(name) }
        }
        self.init(normalised: normalised)
    }

    private init(normalised: [String]) {
        domains = normalised.sorted { $0.utf8.count > $1.utf8.count }
    }

    public var allowsVirtualHosts: Bool { !domains.isEmpty }

    /// The bucket and key a request names. `path` is the decoded path ("/…"); `host` the Host
    /// header as received. `virtualHost` says the bucket came from the host.
    func resolve(host: String, path: String) -> (bucket: String, key: String?, virtualHost: Bool) {
        let trimmed = path.dropFirst()
        if let bucket = virtualHostBucket(host) {
            return (bucket, trimmed.isEmpty ? nil : String(trimmed), true)
        }
        guard let slash = trimmed.firstIndex(of: "/") else { return (String(trimmed), nil, false) }
        let key = trimmed[trimmed.index(after: slash)...]
        return (String(trimmed[..<slash]), key.isEmpty ? nil : String(key), false)
    }

    /// The bucket label(s) in front of a configured domain, or nil for a path-style host.
    func virtualHostBucket(_ host: String) -> String? {
        guard !domains.isEmpty, let name = Self.hostName(host), !Self.isIPv4(name), !domains.contains(name) else { return nil }
        for domain in domains where name.utf8.count > domain.utf8.count + 1 && name.hasSuffix("." + domain) {
            return String(name.dropLast(domain.utf8.count + 1))
        }
        return nil
    }

    /// The Host header's name: lowercase, without the port or a trailing dot; nil for an IPv6
    /// literal ("[::1]:9000"), which can never carry a bucket.
    static func hostName(_ host: String) -> String? {
        guard !host.hasPrefix("[") else { return nil }
        var name = Substring(host.lowercased())
        if let colon = name.lastIndex(of: ":"), name[name.index(after: colon)...].allSatisfy(\.isASCIIDigit) {
            name = name[..<colon]
        }
        if name.hasSuffix(".") { name = name.dropLast() }
        return name.isEmpty ? nil : String(name)
    }

    static func isIPv4(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCIIDigit) }
    }

    /// A base domain as given: lowercase labels of a–z, 0–9 and "-" (not at either end), the
    /// last not all digits (so no IP address), 253 bytes at most; one trailing dot is dropped.
    static func normalise(_ text: String) throws(BucketAddressingError) -> String {
        var name = Substring(text.lowercased())
        if name.hasSuffix(".") { name = name.dropLast() }
        func refuse(_ why: String) -> BucketAddressingError { BucketAddressingError(domain: text, reason: why) }
        guard !name.isEmpty else { throw refuse("it is empty") }
        guard name.utf8.count <= 253 else { throw refuse("it is longer than 253 bytes") }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63 else { throw refuse("its labels must be 1 to 63 characters") }
            guard label.allSatisfy({ $0.isASCIIDigit || ("a" ... "z").contains($0) || $0 == "-" }) else {
                throw refuse("a domain name has only letters, digits, \"-\" and \".\" (give no port or scheme)")
            }
            guard label.first != "-", label.last != "-" else { throw refuse("a label cannot start or end with \"-\"") }
        }
        guard !labels.last!.allSatisfy(\.isASCIIDigit) else {
            throw refuse("an IP address cannot carry buckets; requests to it are path style anyway")
        }
        return String(name)
    }
}

/// A base domain that is not a DNS name.
public struct BucketAddressingError: Error, Sendable, CustomStringConvertible {
    public let domain: String
    public let reason: String
    public var description: String { "\"\(domain)\" is not a usable S3 domain: \(reason)" }
}

extension Character {
    var isASCIIDigit: Bool { ("0" ... "9").contains(self) }
}
