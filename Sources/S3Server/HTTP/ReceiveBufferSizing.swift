import NIOCore

/// Lets a connection's socket reads grow to `maximumReadBytes` instead of NIO's default
/// 64 KiB. An upload body is handed to the responder one read at a time, each one a hop from
/// the event loop to the request's task; bigger reads mean fewer reads, hops and batch parts
/// (UploadReceiver) per byte. The allocator adapts per connection: it grows only while reads
/// fill the buffer (a large body arriving), so small requests keep small buffers.
/// Hummingbird sets no child-channel options of its own, so this handler sets it when it
/// is added to a new connection's pipeline, and passes everything else on untouched.
final class ReceiveBufferSizing: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    static let maximumReadBytes = 1 << 20

    func handlerAdded(context: ChannelHandlerContext) {
        let allocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: Self.maximumReadBytes)
        // Failing to set it only leaves the default in place.
        try? context.channel.syncOptions?.setOption(ChannelOptions.recvAllocator, value: allocator)
    }
}
