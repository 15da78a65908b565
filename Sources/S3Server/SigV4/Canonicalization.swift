/// SigV4's canonical request and string to sign, built from what the server received
/// (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html). The
/// client built the same text from what it sent; any difference is a signature mismatch.
enum Canonicalization {
    static let algorithm = "AWS4-HMAC-SHA256"

    /// The canonical request. `excludingQuery` names query parameters left out (the
    /// signature itself, for presigned URLs).
    static func canonicalRequest(_ request: S3Request, signedHeaders: [String], payloadHash: String,
                                 excludingQuery: String? = nil) throws(S3Error) -> String {
        var lines: [String] = []
        lines.append(request.method.rawValue)
        // S3 signs the path encoded once (not twice, unlike other services), without
        // normalising "." or ".." segments.
        lines.append(PercentCoding.encode(request.path, keepSlash: true))
        lines.append(canonicalQuery(request.query.filter { $0.name != excludingQuery }))
        for name in signedHeaders {
            lines.append(name + ":" + (try headerValue(name, in: request)))
        }
        lines.append("")
        lines.append(signedHeaders.joined(separator: ";"))
        lines.append(payloadHash)
        return lines.joined(separator: "\n")
    }

    static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query.map { (PercentCoding.encode($0.name), PercentCoding.encode($0.value)) }
            .sorted { $0.0 != $1.0 ? $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) : $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// A signed header's value: repeated fields joined by ",", surrounding spaces trimmed,
    /// runs of spaces collapsed to one. A signed header the request lacks is a mismatch.
    static func headerValue(_ name: String, in request: S3Request) throws(S3Error) -> String {
        let raw: String?
        if name == "host" {
            raw = request.host
        } else {
            raw = request.header(name)
        }
        guard let raw else {
            throw S3Error(.signatureDoesNotMatch, "the signed header \"\(name)\" is missing from the request")
        }
        var collapsed = ""
        var lastWasSpace = false
        for character in raw.trimmingSpaces() {
            let isSpace = character == " " || character == "\t"
            if isSpace && lastWasSpace { continue }
            collapsed.append(isSpace ? " " : character)
            lastWasSpace = isSpace
        }
        return collapsed
    }

    /// "date/region/service/aws4_request".
    static func scope(date: String, region: String, service: String) -> String {
        "\(date)/\(region)/\(service)/aws4_request"
    }

    static func stringToSign(amzDate: String, scope: String, canonicalRequest: String) -> String {
        [algorithm, amzDate, scope, Hex.encode(StreamingDigest.hash(.sha256, Array(canonicalRequest.utf8)))]
            .joined(separator: "\n")
    }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
    static func signingKey(secret: String, date: String, region: String, service: String) -> [UInt8] {
        let dateKey = HMACSHA256.mac(key: Array(("AWS4" + secret).utf8), date)
        let regionKey = HMACSHA256.mac(key: dateKey, region)
        let serviceKey = HMACSHA256.mac(key: regionKey, service)
        return HMACSHA256.mac(key: serviceKey, "aws4_request")
    }
}

extension StringProtocol {
    func trimmingSpaces() -> Substring {
        var text = self[...]
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return Substring(text)
    }
}
