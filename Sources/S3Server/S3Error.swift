import HTTPTypes
import Vault

/// Every failure the S3 door reports: an S3 error code, the HTTP status that goes with it,
/// and a message saying what was wrong. The codes and statuses are those of Amazon S3
/// (docs/S3.md lists them), plus two of our own for collisions between files and directories.
public struct S3Error: Error, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable {
        public let rawValue: String
        public let status: HTTPResponse.Status

        public init?(rawValue: String) { return nil }
        init(_ rawValue: String, _ status: HTTPResponse.Status) {
            self.rawValue = rawValue
            self.status = status
        }

        static let accessDenied = Code("AccessDenied", .forbidden)
        static let authorizationHeaderMalformed = Code("AuthorizationHeaderMalformed", .badRequest)
        static let authorizationQueryParametersError = Code("AuthorizationQueryParametersError", .badRequest)
        static let badDigest = Code("BadDigest", .badRequest)
        static let bucketAlreadyOwnedByYou = Code("BucketAlreadyOwnedByYou", .conflict)
        static let bucketNotEmpty = Code("BucketNotEmpty", .conflict)
        static let entityTooLarge = Code("EntityTooLarge", .badRequest)
        static let entityTooSmall = Code("EntityTooSmall", .badRequest)
        static let expiredToken = Code("ExpiredToken", .badRequest)
        static let incompleteBody = Code("IncompleteBody", .badRequest)
        static let internalError = Code("InternalError", .internalServerError)
        static let invalidAccessKeyID = Code("InvalidAccessKeyId", .forbidden)
        static let invalidArgument = Code("InvalidArgument", .badRequest)
        static let invalidBucketName = Code("InvalidBucketName", .badRequest)
        static let invalidDigest = Code("InvalidDigest", .badRequest)
        static let invalidObjectName = Code("InvalidObjectName", .badRequest)
        static let invalidPart = Code("InvalidPart", .badRequest)
        static let invalidPartOrder = Code("InvalidPartOrder", .badRequest)
        static let invalidRange = Code("InvalidRange", .rangeNotSatisfiable)
        static let invalidURI = Code("InvalidURI", .badRequest)
        static let invalidRequest = Code("InvalidRequest", .badRequest)
        static let keyTooLong = Code("KeyTooLongError", .badRequest)
        static let malformedXML = Code("MalformedXML", .badRequest)
        static let metadataTooLarge = Code("MetadataTooLarge", .badRequest)
        static let methodNotAllowed = Code("MethodNotAllowed", .methodNotAllowed)
        static let missingContentLength = Code("MissingContentLength", .lengthRequired)
        static let noSuchBucket = Code("NoSuchBucket", .notFound)
        static let noSuchKey = Code("NoSuchKey", .notFound)
        static let noSuchUpload = Code("NoSuchUpload", .notFound)
        static let notImplemented = Code("NotImplemented", .notImplemented)
        static let notModified = Code("NotModified", .notModified)
        static let preconditionFailed = Code("PreconditionFailed", .preconditionFailed)
        static let requestTimeTooSkewed = Code("RequestTimeTooSkewed", .forbidden)
        static let signatureDoesNotMatch = Code("SignatureDoesNotMatch", .forbidden)
        static let slowDown = Code("SlowDown", .serviceUnavailable)
        static let contentSHA256Mismatch = Code("XAmzContentSHA256Mismatch", .badRequest)
        static let storageFull = Code("StorageFull", .init(code: 507, reasonPhrase: "Insufficient Storage"))
        /// Our own: the key names an existing directory where an object should be (PUT "a"
        /// while "a/…" exists), or the reverse (PUT "a/" over an object "a").
        static let objectExistsAsDirectory = Code("ObjectExistsAsDirectory", .conflict)
        /// Our own: a parent of the key is an object, so the key cannot be created (PUT "a/b"
        /// while object "a" exists).
        static let parentIsObject = Code("ParentIsObject", .conflict)
    }

    public let code: Code
    public let message: String
    /// Extra elements of the error document (for example StringToSign), in order.
    var details: [(String, String)] = []

    init(_ code: Code, _ message: String, details: [(String, String)] = []) {
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// The one mapping from vault failures to S3 errors. `missing` is the code for "not
    /// found" where the operation knows better (NoSuchBucket for a bucket, NoSuchUpload).
    init(_ error: VaultError, missing: Code = .noSuchKey) {
        switch error.code {
        case .notFound: self.init(missing, error.context)
        case .exists: self.init(.objectExistsAsDirectory, error.context)
        case .notDirectory: self.init(.parentIsObject, "a parent of the key is an object, not a directory: \(error.context)")
        case .isDirectory: self.init(.objectExistsAsDirectory, "the key names a directory: \(error.context)")
        case .notEmpty: self.init(.bucketNotEmpty, error.context)
        case .invalidArgument: self.init(.invalidArgument, error.context)
        case .nameTooLong: self.init(.keyTooLong, error.context)
        case .notPermitted, .accessDenied: self.init(.accessDenied, error.context)
        case .readOnly: self.init(.accessDenied, "the vault is read-only: \(error.context)")
        case .fileTooLarge: self.init(.entityTooLarge, error.context)
        case .noSpace: self.init(.storageFull, error.context)
        case .busy: self.init(.slowDown, error.context)
        case .rangeNotSatisfiable: self.init(.invalidRange, error.context)
        case .notSupported: self.init(.notImplemented, error.context)
        case .argumentListTooLong: self.init(.metadataTooLarge, error.context)
        case .tooManyLinks: self.init(.invalidRequest, error.context)
        case .io, .noAttribute, .badHandle: self.init(.internalError, error.context)
        }
    }

    /// Any error thrown while serving a request, as the S3 error to report.
    static func from(_ error: any Error) -> S3Error {
        switch error {
        case let error as S3Error: return error
        case let error as VaultError: return S3Error(error)
        default: return S3Error(.internalError, "\(error)")
        }
    }
}
