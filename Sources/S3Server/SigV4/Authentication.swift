/// A request whose signature checked out, and what still has to be checked of its payload.
struct Authentication: Sendable {
    let accessKeyID: String
    /// What the key pair that signed may do (S3Service.authorize checks it).
    let access: S3Access
    let payload: PayloadSigning
    /// What aws-chunked chunk signatures chain from (the seed is the request's signature).
    let chunkSigning: ChunkSigningContext
}

/// How the body is signed, from x-amz-content-sha256 (or X-Amz-Content-Sha256 of a presigned URL).
enum PayloadSigning: Sendable, Equatable {
    /// "UNSIGNED-PAYLOAD": only the headers are signed.
    case unsigned
    /// The SHA-256 of the whole body, verified before the object becomes visible.
    case sha256([UInt8])
    /// aws-chunked; each chunk signed, the signatures chained from the seed signature.
    case streamingSigned
    /// aws-chunked with signed chunks and a signed trailer (x-amz-checksum-*).
    case streamingSignedWithTrailer
    /// aws-chunked, chunks unsigned, with a trailer checksum.
    case streamingUnsignedWithTrailer

    init(headerValue: String) throws(S3Error) {
        switch headerValue {
        case "UNSIGNED-PAYLOAD": self = .unsigned
        case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD": self = .streamingSigned
        case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER": self = .streamingSignedWithTrailer
        case "STREAMING-UNSIGNED-PAYLOAD-TRAILER": self = .streamingUnsignedWithTrailer
        case let value where value.hasPrefix("STREAMING-"):
            throw S3Error(.notImplemented, "the payload signing scheme \(value) is not supported")
        default:
            guard headerValue.utf8.count == 64, let digest = Hex.decode(headerValue) else {
                throw S3Error(.invalidArgument, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-… scheme or a hex SHA-256")
            }
            self = .sha256(digest)
        }
    }

    var isChunked: Bool {
        switch self {
        case .streamingSigned, .streamingSignedWithTrailer, .streamingUnsignedWithTrailer: return true
        case .unsigned, .sha256: return false
        }
    }
}

/// The signing key and scope a request was verified with, for chunk and trailer signatures.
struct ChunkSigningContext: Sendable {
    let key: [UInt8]
    let amzDate: String
    let scope: String
    let seedSignature: String
}
