import Hummingbird

/// Multipart uploads (docs/S3.md, "Multipart"). Not implemented yet: every operation answers
/// NotImplemented, so clients fall back or report it clearly.
extension S3Service {
    func createMultipartUpload(_ request: S3Request, _ path: ObjectPath) async throws -> Response {
        throw S3Error(.notImplemented, "multipart uploads are not implemented yet")
    }

    func uploadPart(_ request: S3Request, _ authentication: Authentication, _ path: ObjectPath, uploadID: String,
                    partNumber: String, body: RequestBody) async throws -> Response {
        throw S3Error(.notImplemented, "multipart uploads are not implemented yet")
    }

    func uploadPartCopy(_ request: S3Request, _ path: ObjectPath, uploadID: String, partNumber: String) async throws -> Response {
        throw S3Error(.notImplemented, "multipart uploads are not implemented yet")
    }

    func completeMultipartUpload(_ request: S3Request, _ path: ObjectPath, uploadID: String, body: RequestBody) async throws -> Response {
        throw S3Error(.notImplemented, "multipart uploads are not implemented yet")
    }

    func abortMultipartUpload(_ request: S3Request, _ path: ObjectPath, uploadID: String) async throws -> Response {
        throw S3Error(.notImplemented, "multipart uploads are not implemented yet")
    }

    func listParts(_ request: S3Request, _ path: ObjectPath, uploadID: String) async throws -> Response {
        throw S3Error(.notImplemented, "multipart uploads are not implemented yet")
    }

    func listMultipartUploads(_ request: S3Request) async throws -> Response {
        throw S3Error(.notImplemented, "multipart uploads are not implemented yet")
    }
}
