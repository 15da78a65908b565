import Foundation

/// What an upload's body must turn out to be, read from the request before the body:
/// its length, its digests, and how it is framed. Checked by `UploadReceiver` after the last
/// byte and before the object becomes visible.
struct PayloadExpectations: Sendable {
    /// The payload length (Content-Length, or x-amz-decoded-content-length for aws-chunked).
    var length: UInt64?
    /// Content-Md5, decoded.
    var md5: [UInt8]?
    /// The signed SHA-256 of the payload (x-amz-content-sha256).
    var sha256: [UInt8]?
    /// An x-amz-checksum-* header: algorithm and base64 value.
    var headerChecksum: (algorithm: ChecksumAlgorithm, value: String)?
    /// The checksum algorithm whose value arrives as a trailer (x-amz-trailer).
    var trailerChecksum: ChecksumAlgorithm?
    /// aws-chunked framing: the signing context when chunks are signed.
    var chunked: (signing: ChunkSigningContext?, trailer: Bool)?

    init(_ request: S3Request, _ authentication: Authentication) throws(S3Error) {
        switch authentication.payload {
        case .unsigned: break
        case let .sha256(digest): sha256 = digest
        case .streamingSigned: chunked = (authentication.chunkSigning, false)
        case .streamingSignedWithTrailer: chunked = (authentication.chunkSigning, true)
        case .streamingUnsignedWithTrailer: chunked = (nil, true)
        }
        if chunked != nil {
            guard let decoded = request.header("x-amz-decoded-content-length"), let value = UInt64(decoded) else {
                throw S3Error(.missingContentLength, "an aws-chunked upload needs x-amz-decoded-content-length")
            }
            length = value
        } else if let text = request.header("content-length") {
            guard let value = UInt64(text) else { throw S3Error(.invalidArgument, "Content-Length \"\(text)\" is not a number") }
            length = value
        }
        if let text = request.header("content-md5") {
            guard let data = Data(base64Encoded: text), data.count == 16 else {
                throw S3Error(.invalidDigest, "the Content-MD5 you specified is not a valid base64 MD5")
            }
            md5 = Array(data)
        }
        for algorithm in ChecksumAlgorithm.allCases {
            if let value = request.header(algorithm.headerName) { headerChecksum = (algorithm, value) }
        }
        if let trailer = request.header("x-amz-trailer") {
            guard chunked?.trailer == true else {
                throw S3Error(.invalidRequest, "x-amz-trailer needs a STREAMING-…-TRAILER payload")
            }
            guard let algorithm = ChecksumAlgorithm(headerName: trailer.trimmingSpaces().lowercased()) else {
                throw S3Error(.invalidRequest, "unsupported trailer \"\(trailer)\"; x-amz-checksum-crc32, -crc32c, -sha1 and -sha256 are supported")
            }
            trailerChecksum = algorithm
        }
    }

    /// The algorithm to compute while the body streams in, if any.
    var checksumAlgorithm: ChecksumAlgorithm? { headerChecksum?.algorithm ?? trailerChecksum }
}
