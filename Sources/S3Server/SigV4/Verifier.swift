/// Checks SigV4 signatures, from the Authorization header or from a presigned URL's query,
/// and says how the payload is to be verified while it streams in.
struct SigV4Verifier: Sendable {
    let credentials: [S3Credentials]
    /// Requests signed further than this from the server's clock are refused (S3: 15 minutes).
    var maximumSkewSeconds: Int64 = 15 * 60
    /// Presigned URLs may live at most 7 days.
    static let maximumPresignedExpiry: Int64 = 7 * 24 * 3600
    var now: @Sendable () -> Int64 = { HTTPDates.nowSeconds() }

    func authenticate(_ request: S3Request) throws(S3Error) -> Authentication {
        if let authorization = request.header("authorization") {
            return try verifyHeader(authorization, request)
        }
        if request.queryValue("X-Amz-Algorithm") != nil || request.queryValue("X-Amz-Signature") != nil {
            return try verifyPresigned(request)
        }
        if request.queryValue("Signature") != nil || request.queryValue("AWSAccessKeyId") != nil {
            throw S3Error(.accessDenied, "signature version 2 is not supported; sign requests with AWS4-HMAC-SHA256 (SigV4)")
        }
        throw S3Error(.accessDenied, "anonymous requests are not allowed; sign the request with SigV4")
    }

    // MARK: Authorization header

    private func verifyHeader(_ authorization: String, _ request: S3Request) throws(S3Error) -> Authentication {
        guard authorization.hasPrefix(Canonicalization.algorithm + " ") else {
            if authorization.hasPrefix("AWS ") {
                throw S3Error(.accessDenied, "signature version 2 is not supported; sign requests with AWS4-HMAC-SHA256 (SigV4)")
            }
            throw S3Error(.authorizationHeaderMalformed, "the Authorization header must start with \(Canonicalization.algorithm)")
        }
        var fields: [String: String] = [:]
        for part in authorization.dropFirst(Canonicalization.algorithm.count + 1).split(separator: ",") {
            let pair = part.trimmingSpaces().split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            fields[String(pair[0])] = String(pair[1])
        }
        guard let credential = fields["Credential"], let signedHeaderList = fields["SignedHeaders"],
              let signature = fields["Signature"] else {
            throw S3Error(.authorizationHeaderMalformed, "the Authorization header needs Credential, SignedHeaders and Signature")
        }
        guard let amzDate = request.header("x-amz-date") ?? request.header("date").flatMap(Self.amzDate(fromHTTPDate:)),
              let requestTime = HTTPDates.parseAmzDate(amzDate) else {
            throw S3Error(.accessDenied, "the request needs a valid X-Amz-Date (yyyyMMddTHHmmssZ) or Date header")
        }
        let scope = try CredentialScope(credential, amzDate: amzDate)
        let pair = try credentials(for: scope.accessKeyID)
        try checkSkew(requestTime)
        guard let payloadHeader = request.header("x-amz-content-sha256") else {
            throw S3Error(.invalidRequest, "missing required header for this request: x-amz-content-sha256")
        }
        let payload = try PayloadSigning(headerValue: payloadHeader)
        let signedHeaders = signedHeaderList.split(separator: ";").map(String.init)
        try checkSignedHeaders(signedHeaders)
        let canonical = try Canonicalization.canonicalRequest(request, signedHeaders: signedHeaders, payloadHash: payloadHeader)
        let key = Canonicalization.signingKey(secret: pair.secretAccessKey, date: scope.date, region: scope.region, service: scope.service)
        let expected = try check(signature: signature, key: key, amzDate: amzDate, scope: scope.text, canonical: canonical)
        return Authentication(accessKeyID: scope.accessKeyID, access: pair.access, payload: payload,
                              chunkSigning: ChunkSigningContext(key: key, amzDate: amzDate, scope: scope.text, seedSignature: expected))
    }

    // MARK: Presigned URLs

    private func verifyPresigned(_ request: S3Request) throws(S3Error) -> Authentication {
        func required(_ name: String) throws(S3Error) -> String {
            guard let value = request.queryValue(name), !value.isEmpty else {
                throw S3Error(.authorizationQueryParametersError, "the presigned URL lacks \(name)")
            }
            return value
        }
        guard try required("X-Amz-Algorithm") == Canonicalization.algorithm else {
            throw S3Error(.authorizationQueryParametersError, "X-Amz-Algorithm must be \(Canonicalization.algorithm)")
        }
        let amzDate = try required("X-Amz-Date")
        guard let requestTime = HTTPDates.parseAmzDate(amzDate) else {
            throw S3Error(.authorizationQueryParametersError, "X-Amz-Date must be yyyyMMddTHHmmssZ")
        }
        guard let expires = Int64(try required("X-Amz-Expires")), expires >= 1, expires <= Self.maximumPresignedExpiry else {
            throw S3Error(.authorizationQueryParametersError, "X-Amz-Expires must be between 1 and \(Self.maximumPresignedExpiry) seconds")
        }
        let scope = try CredentialScope(try required("X-Amz-Credential"), amzDate: amzDate)
        let pair = try credentials(for: scope.accessKeyID)
        let now = now()
        guard requestTime <= now + maximumSkewSeconds else {
            throw S3Error(.accessDenied, "the presigned URL is not valid yet (X-Amz-Date is in the future)")
        }
        guard now <= requestTime + expires else {
            throw S3Error(.accessDenied, "request has expired", details: [("X-Amz-Expires", String(expires)),
                                                                        ("Expires", HTTPDates.httpDate(seconds: requestTime + expires))])
        }
        let signedHeaders = try required("X-Amz-SignedHeaders").split(separator: ";").map(String.init)
        try checkSignedHeaders(signedHeaders)
        let payloadHash = request.queryValue("X-Amz-Content-Sha256") ?? "UNSIGNED-PAYLOAD"
        let payload = try PayloadSigning(headerValue: payloadHash)
        let canonical = try Canonicalization.canonicalRequest(request, signedHeaders: signedHeaders, payloadHash: payloadHash,
                                                              excludingQuery: "X-Amz-Signature")
        let key = Canonicalization.signingKey(secret: pair.secretAccessKey, date: scope.date, region: scope.region, service: scope.service)
        let expected = try check(signature: try required("X-Amz-Signature"), key: key, amzDate: amzDate, scope: scope.text,
                                 canonical: canonical)
        return Authentication(accessKeyID: scope.accessKeyID, access: pair.access, payload: payload,
                              chunkSigning: ChunkSigningContext(key: key, amzDate: amzDate, scope: scope.text, seedSignature: expected))
    }

    // MARK: Shared checks

    private func credentials(for accessKeyID: String) throws(S3Error) -> S3Credentials {
        guard let match = credentials.first(where: { $0.accessKeyID == accessKeyID }) else {
            throw S3Error(.invalidAccessKeyID, "the access key id \(accessKeyID) does not exist in our records")
        }
        return match
    }

    private func checkSkew(_ requestTime: Int64) throws(S3Error) {
        let now = now()
        guard abs(now - requestTime) <= maximumSkewSeconds else {
            throw S3Error(.requestTimeTooSkewed, "the difference between the request time and the server's time is too large",
                          details: [("RequestTime", HTTPDates.httpDate(seconds: requestTime)),
                                    ("ServerTime", HTTPDates.httpDate(seconds: now)),
                                    ("MaxAllowedSkewMilliseconds", String(maximumSkewSeconds * 1000))])
        }
    }

    /// The host header must be signed; the list must be sorted lowercase names.
    private func checkSignedHeaders(_ names: [String]) throws(S3Error) {
        guard names.contains("host") else {
            throw S3Error(.accessDenied, "the host header must be among the signed headers")
        }
        guard names.allSatisfy({ $0 == $0.lowercased() }) else {
            throw S3Error(.authorizationHeaderMalformed, "signed header names must be lowercase")
        }
    }

    /// Compares the client's signature with ours; returns ours (hex) for chunk chaining.
    private func check(signature: String, key: [UInt8], amzDate: String, scope: String, canonical: String) throws(S3Error) -> String {
        let stringToSign = Canonicalization.stringToSign(amzDate: amzDate, scope: scope, canonicalRequest: canonical)
        let expected = HMACSHA256.mac(key: key, stringToSign)
        guard let given = Hex.decode(signature), constantTimeEquals(given, expected) else {
            throw S3Error(.signatureDoesNotMatch,
                          "the request signature we calculated does not match the signature you provided; check your key and signing method",
                          details: [("StringToSign", stringToSign), ("CanonicalRequest", canonical)])
        }
        return Hex.encode(expected)
    }

    /// The Date header (an HTTP date) in SigV4's basic format, for clients that sign it
    /// instead of X-Amz-Date.
    static func amzDate(fromHTTPDate text: String) -> String? {
        guard let seconds = HTTPDates.parseHTTPDate(text) else { return nil }
        let http = HTTPDates.httpDate(seconds: seconds)  // "Tue, 02 Jan 2024 03:04:05 GMT"
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let parts = http.split(separator: " ")
        guard parts.count == 6, let month = months.firstIndex(of: String(parts[2])) else { return nil }
        let time = parts[4].replacingOccurrences(of: ":", with: "")
        return "\(parts[3])\(month < 9 ? "0" : "")\(month + 1)\(parts[1])T\(time)Z"
    }
}

/// "AKID/20240102/us-east-1/s3/aws4_request", checked against the request's date.
struct CredentialScope {
    let accessKeyID: String
    let date: String
    let region: String
    let service: String
    var text: String { Canonicalization.scope(date: date, region: region, service: service) }

    init(_ credential: String, amzDate: String) throws(S3Error) {
        let parts = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, parts[4] == "aws4_request", !parts[0].isEmpty else {
            throw S3Error(.authorizationHeaderMalformed, "the credential must be ACCESSKEY/DATE/REGION/s3/aws4_request, got \"\(credential)\"")
        }
        guard parts[3] == "s3" else {
            throw S3Error(.authorizationHeaderMalformed, "the credential's service must be s3, not \(parts[3])")
        }
        guard amzDate.hasPrefix(parts[1]) else {
            throw S3Error(.authorizationHeaderMalformed, "the credential's date \(parts[1]) is not the request's date \(amzDate.prefix(8))")
        }
        (accessKeyID, date, region, service) = (parts[0], parts[1], parts[2], parts[3])
    }
}
