import Hummingbird
import HTTPTypes
import NIOCore

/// Building responses: XML documents, empty answers, and the one rendering of `S3Error`.
enum Responses {
    static let xmlContentType = "application/xml"

    static func xml(_ document: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = xmlContentType
        let buffer = ByteBuffer(string: document)
        headers[.contentLength] = String(buffer.readableBytes)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: buffer))
    }

    static func empty(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        if status != .noContent && status != .notModified { headers[.contentLength] = "0" }
        return Response(status: status, headers: headers)
    }

    /// The S3 error document (no body for HEAD, whose clients read the status only).
    static func error(_ error: S3Error, resource: String, requestID: String, isHead: Bool) -> Response {
        var headers = HTTPFields()
        if error.code == .invalidRange, let size = error.details.first(where: { $0.0 == "ActualObjectSize" })?.1 {
            headers[.contentRange] = "bytes */\(size)"
        }
        if isHead || error.code == .notModified {
            return empty(status: error.code.status, headers: headers)
        }
        var xml = XMLWriter(plainRoot: "Error")
        xml.element("Code", error.code.rawValue)
        xml.element("Message", error.message)
        for (name, value) in error.details { xml.element(name, value) }
        xml.element("Resource", resource)
        xml.element("RequestId", requestID)
        return Responses.xml(xml.finish(), status: error.code.status, headers: headers)
    }

    static func quoted(_ etag: String) -> String { "\"\(etag)\"" }
}
