import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers "Expect: 100-continue" at once. aws cli, boto3 and Go clients send it with
/// uploads and otherwise wait a second before sending the body; the request itself is
/// authenticated as usual when its head reaches the responder.
final class ExpectContinueHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var part = unwrapInboundIn(data)
        if case var .head(head) = part, let expect = head.headerFields[.expect], expect.lowercased() == "100-continue" {
            head.headerFields[.expect] = nil
            part = .head(head)
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        context.fireChannelRead(wrapInboundOut(part))
    }
}
