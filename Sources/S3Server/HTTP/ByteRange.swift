/// The Range header of GetObject/HeadObject: one range of "bytes=" (first-last, first-, or
/// -suffix). Forms S3 ignores (other units, several ranges, last < first) serve the whole
/// object; a range starting at or past the end is InvalidRange (416).
enum ByteRange {
    static func parse(_ header: String?, size: UInt64) throws(S3Error) -> Range<UInt64>? {
        guard let header, header.hasPrefix("bytes=") else { return nil }
        let spec = header.dropFirst("bytes=".count).trimmingSpaces()
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let firstText = spec[..<dash].trimmingSpaces()
        let lastText = spec[spec.index(after: dash)...].trimmingSpaces()
        if firstText.isEmpty {
            guard let suffix = UInt64(lastText) else { return nil }
            guard suffix > 0, size > 0 else { throw unsatisfiable(header, size) }
            return (size - min(suffix, size)) ..< size
        }
        guard let first = UInt64(firstText) else { return nil }
        let last: UInt64
        if lastText.isEmpty {
            last = size == 0 ? 0 : size - 1
        } else {
            guard let value = UInt64(lastText) else { return nil }
            guard value >= first else { return nil }
            last = size == 0 ? 0 : min(value, size - 1)
        }
        guard first < size else { throw unsatisfiable(header, size) }
        return first ..< last + 1
    }

    private static func unsatisfiable(_ header: String, _ size: UInt64) -> S3Error {
        S3Error(.invalidRange, "the requested range is not satisfiable",
                details: [("RangeRequested", header), ("ActualObjectSize", String(size))])
    }
}

/// If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since, evaluated as S3 does
/// (RFC 7232 precedence: a matching If-Match overrides If-Unmodified-Since, a failing
/// If-None-Match overrides If-Modified-Since). Also used for x-amz-copy-source-if-*.
struct Preconditions {
    var ifMatch: String?
    var ifNoneMatch: String?
    var ifModifiedSince: Int64?
    var ifUnmodifiedSince: Int64?

    init(_ request: S3Request, prefix: String = "") {
        ifMatch = request.header(prefix + "if-match")
        ifNoneMatch = request.header(prefix + "if-none-match")
        ifModifiedSince = request.header(prefix + "if-modified-since").flatMap(HTTPDates.parseHTTPDate)
        ifUnmodifiedSince = request.header(prefix + "if-unmodified-since").flatMap(HTTPDates.parseHTTPDate)
    }

    /// Throws PreconditionFailed (412), or NotModified (304) when `notModifiedFails` is false
    /// (GET and HEAD; for copies every failure is a 412).
    func check(etag: String, lastModified: Int64, notModifiedIsFailure: Bool = false) throws(S3Error) {
        if let ifMatch {
            guard Self.matches(ifMatch, etag) else { throw S3Error(.preconditionFailed, "At least one of the pre-conditions you specified did not hold") }
        } else if let ifUnmodifiedSince, lastModified > ifUnmodifiedSince {
            throw S3Error(.preconditionFailed, "At least one of the pre-conditions you specified did not hold")
        }
        let notModified: Bool
        if let ifNoneMatch {
            notModified = Self.matches(ifNoneMatch, etag)
        } else if let ifModifiedSince {
            notModified = lastModified <= ifModifiedSince
        } else {
            notModified = false
        }
        if notModified {
            throw notModifiedIsFailure ? S3Error(.preconditionFailed, "At least one of the pre-conditions you specified did not hold")
                : S3Error(.notModified, "not modified")
        }
    }

    /// Whether a list of entity tags ("*", or quoted tags separated by commas) names `etag`.
    static func matches(_ list: String, _ etag: String) -> Bool {
        list.split(separator: ",").contains { candidate in
            var tag = candidate.trimmingSpaces()
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
            if tag.hasPrefix("\"") && tag.hasSuffix("\"") && tag.count >= 2 { tag = tag.dropFirst().dropLast() }
            return tag == etag
        }
    }
}
