import NIOCore

/// Decodes an aws-chunked body as it arrives
/// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html):
///
///     SIZE-IN-HEX[;chunk-signature=SIG]\r\n DATA \r\n   … repeated …
///     0[;chunk-signature=SIG]\r\n [TRAILER-NAME:VALUE\r\n]… [x-amz-trailer-signature:SIG\r\n] \r\n
///
/// Chunk data is handed on as slices of the input (no copy) while its SHA-256 is computed;
/// a chunk's signature is checked when its last byte has arrived, each one chaining from the
/// previous (the first from the request's signature). The caller writes data only somewhere
/// invisible until the whole body has been verified.
struct AwsChunkedParser {
    enum State: Equatable {
        case chunkHeader
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailer
        case done
    }

    /// Chunk and trailer signatures are verified with this; nil when chunks are unsigned.
    let signing: ChunkSigningContext?
    let expectsTrailer: Bool
    private(set) var state = State.chunkHeader
    private(set) var trailers: [(name: String, value: String)] = []
    private(set) var decodedBytes: UInt64 = 0
    private var line: [UInt8] = []
    private var previousSignature: String
    private var currentSignature: String?
    private var chunkDigest: StreamingDigest?
    private var trailerSignature: String?

    static let maximumLineBytes = 4096
    private static let emptySHA256 = Hex.encode(StreamingDigest.hash(.sha256, []))

    init(signing: ChunkSigningContext?, expectsTrailer: Bool) {
        self.signing = signing
        self.expectsTrailer = expectsTrailer
        previousSignature = signing?.seedSignature ?? ""
    }

    /// Consumes `input`; returns the payload bytes it held.
    mutating func feed(_ input: inout ByteBuffer) throws(S3Error) -> [ByteBuffer] {
        var output: [ByteBuffer] = []
        while input.readableBytes > 0 {
            switch state {
            case .chunkHeader:
                guard let header = try readLine(&input) else { continue }
                try beginChunk(header)
            case let .chunkData(remaining):
                let count = min(remaining, input.readableBytes)
                let slice = input.readSlice(length: count)!
                slice.withUnsafeReadableBytes { chunkDigest?.update($0) }
                decodedBytes += UInt64(count)
                output.append(slice)
                if count == remaining {
                    try finishChunk(empty: false)
                    state = .chunkDataEnd
                } else {
                    state = .chunkData(remaining: remaining - count)
                }
            case .chunkDataEnd:
                guard let rest = try readLine(&input) else { continue }
                guard rest.isEmpty else { throw Self.malformed("chunk data is longer than its declared size") }
                state = .chunkHeader
            case .trailer:
                guard let text = try readLine(&input) else { continue }
                if text.isEmpty {
                    try finishTrailers()
                } else {
                    try addTrailer(text)
                }
            case .done:
                // Bytes after the final chunk would be a second body: refuse rather than ignore.
                throw Self.malformed("data follows the final chunk")
            }
        }
        return output
    }

    /// Called at the end of the body; throws when it ended early.
    mutating func finish() throws(S3Error) {
        // Some clients end the body right after the trailers, without the empty line.
        if state == .trailer && line.isEmpty { try finishTrailers() }
        guard state == .done else {
            throw S3Error(.incompleteBody, "the aws-chunked body ended before its final chunk")
        }
    }

    private mutating func readLine(_ input: inout ByteBuffer) throws(S3Error) -> [UInt8]? {
        while let byte = input.readInteger(as: UInt8.self) {
            if byte == UInt8(ascii: "\n") {
                guard line.last == UInt8(ascii: "\r") else { throw Self.malformed("a chunk line does not end in CRLF") }
                let complete = Array(line.dropLast())
                line.removeAll(keepingCapacity: true)
                return complete
            }
            line.append(byte)
            guard line.count <= Self.maximumLineBytes else { throw Self.malformed("a chunk header or trailer line is too long") }
        }
        return nil
    }

    private mutating func beginChunk(_ header: [UInt8]) throws(S3Error) {
        let text = String(decoding: header, as: UTF8.self)
        let parts = text.split(separator: ";", maxSplits: 1)
        guard let sizeText = parts.first, sizeText.count <= 15, let size = Int(sizeText, radix: 16), size >= 0 else {
            throw Self.malformed("\"\(text.prefix(40))\" is not a chunk header")
        }
        currentSignature = nil
        if parts.count == 2 {
            let extensionText = parts[1]
            guard extensionText.hasPrefix("chunk-signature=") else { throw Self.malformed("unknown chunk extension \"\(extensionText.prefix(40))\"") }
            currentSignature = String(extensionText.dropFirst("chunk-signature=".count))
        }
        if signing != nil && currentSignature == nil {
            throw S3Error(.signatureDoesNotMatch, "a chunk of a signed aws-chunked body has no chunk-signature")
        }
        chunkDigest = signing == nil ? nil : StreamingDigest(.sha256)
        if size == 0 {
            try finishChunk(empty: true)
            state = .trailer
        } else {
            state = .chunkData(remaining: size)
        }
    }

    /// Verifies the signature of the chunk just read.
    private mutating func finishChunk(empty: Bool) throws(S3Error) {
        guard let signing, let digest = chunkDigest, let given = currentSignature else { return }
        let dataHash = empty ? Self.emptySHA256 : Hex.encode(digest.finish())
        let stringToSign = ["AWS4-HMAC-SHA256-PAYLOAD", signing.amzDate, signing.scope, previousSignature, Self.emptySHA256, dataHash]
            .joined(separator: "\n")
        let expected = HMACSHA256.mac(key: signing.key, stringToSign)
        guard let givenBytes = Hex.decode(given), constantTimeEquals(givenBytes, expected) else {
            throw S3Error(.signatureDoesNotMatch, "the signature of chunk ending at payload byte \(decodedBytes) does not match",
                          details: [("StringToSign", stringToSign)])
        }
        previousSignature = Hex.encode(expected)
        chunkDigest = nil
    }

    private mutating func addTrailer(_ line: [UInt8]) throws(S3Error) {
        let text = String(decoding: line, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":") else { throw Self.malformed("a trailer line has no \":\"") }
        let name = text[..<colon].trimmingSpaces().lowercased()
        let value = String(text[text.index(after: colon)...].trimmingSpaces())
        if name == "x-amz-trailer-signature" {
            trailerSignature = value
        } else {
            trailers.append((name, value))
        }
    }

    private mutating func finishTrailers() throws(S3Error) {
        if !expectsTrailer && !trailers.isEmpty {
            throw Self.malformed("trailers were sent but x-amz-content-sha256 names no trailer scheme")
        }
        if let signing, expectsTrailer {
            guard let given = trailerSignature else {
                throw S3Error(.signatureDoesNotMatch, "the signed trailer has no x-amz-trailer-signature")
            }
            let canonical = trailers.map { "\($0.name):\($0.value)\n" }.joined()
            let stringToSign = ["AWS4-HMAC-SHA256-TRAILER", signing.amzDate, signing.scope, previousSignature,
                                Hex.encode(StreamingDigest.hash(.sha256, Array(canonical.utf8)))].joined(separator: "\n")
            let expected = HMACSHA256.mac(key: signing.key, stringToSign)
            guard let givenBytes = Hex.decode(given), constantTimeEquals(givenBytes, expected) else {
                throw S3Error(.signatureDoesNotMatch, "the trailer signature does not match", details: [("StringToSign", stringToSign)])
            }
        }
        state = .done
    }

    private static func malformed(_ why: String) -> S3Error {
        S3Error(.incompleteBody, "malformed aws-chunked body: \(why)")
    }
}
