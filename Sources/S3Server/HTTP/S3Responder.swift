import Hummingbird
import HTTPTypes
import Logging

/// The one responder: every request is parsed, authenticated, and handed to the operation it
/// names; every failure, whatever its type, becomes an S3 error document. Nothing a client
/// sends can end the server.
struct S3Responder: HTTPResponder {
    typealias Context = BasicRequestContext
    let service: S3Service

    func respond(to request: Request, context: Context) async throws -> Response {
        let requestID = Hex.encode((0 ..< 8).map { _ in UInt8.random(in: 0 ... 255) }).uppercased()
        var resource = request.uri.path
        var response: Response
        do {
            let s3Request = try S3Request(request, addressing: service.addressing)
            resource = s3Request.resource
            let authentication = try service.verifier.authenticate(s3Request)
            response = try await service.dispatch(s3Request, authentication, body: request.body)
        } catch {
            let failure = S3Error.from(error)
            if failure.code == .internalError {
                context.logger.error("\(request.method) \(resource): \(failure.message)")
            }
            response = Responses.error(failure, resource: resource, requestID: requestID, isHead: request.method == .head)
        }
        // I5: the client hears back only once the change is visible through the mount too.
        await service.changesVisibleThroughMount(after: request.method)
        response.headers[HTTPField.Name("x-amz-request-id")!] = requestID
        response.headers[.server] = "ShardVault"
        return response
    }
}
