@testable import FuseDriver
import Glibc
import Testing

/// The driver's own reading of raw kernel requests and its amendment of libfuse's INIT
/// reply (FUSE_HANDLE_KILLPRIV_V2), on hand-built bytes in the layouts of linux/fuse.h.
struct KernelRequestTests {
    /// `fuse_in_header` with `opcode`, `unique` and `nodeID`, then `arguments` (32-bit words).
    static func request(opcode: UInt32, unique: UInt64 = 7, nodeID: UInt64 = 42, arguments: [UInt32]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: KernelRequest.headerSize + 4 * arguments.count)
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt32(raw.count), toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: opcode, toByteOffset: 4, as: UInt32.self)
            raw.storeBytes(of: unique, toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: nodeID, toByteOffset: 16, as: UInt64.self)
            for (index, word) in arguments.enumerated() {
                raw.storeBytes(of: word, toByteOffset: KernelRequest.headerSize + 4 * index, as: UInt32.self)
            }
        }
        return bytes
    }

    static func parse<T>(_ bytes: [UInt8], _ body: (KernelRequest) -> T) -> T {
        bytes.withUnsafeBytes { body(KernelRequest($0)) }
    }

    /// fuse_write_in: fh (2 words), offset (2), size, write_flags, lock_owner (2), flags, padding.
    static func write(flags: UInt32) -> [UInt8] {
        request(opcode: 16, arguments: [1, 0, 0, 0, 4096, flags, 0, 0, 0, 0])
    }

    @Test func headerFieldsAreRead() {
        let bytes = Self.request(opcode: 16, unique: 0x1122_3344_5566, nodeID: 99, arguments: [])
        Self.parse(bytes) { request in
            #expect(request.opcode == 16 && request.unique == 0x1122_3344_5566 && request.nodeID == 99)
        }
    }

    @Test func onlyAWriteOrOpenWithTheKillFlagDropsSetIDBits() {
        #expect(Self.parse(Self.write(flags: 1 << 2)) { $0.dropsSetIDBits })
        #expect(Self.parse(Self.write(flags: 1 << 0 | 1 << 1)) { !$0.dropsSetIDBits })  // cache, lock owner
        // fuse_open_in: flags, open_flags
        #expect(Self.parse(Self.request(opcode: 14, arguments: [UInt32(O_WRONLY | O_TRUNC), 1])) { $0.dropsSetIDBits })
        #expect(Self.parse(Self.request(opcode: 14, arguments: [UInt32(O_WRONLY | O_TRUNC), 0])) { !$0.dropsSetIDBits })
        // The same bit in a SETATTR or GETATTR means something else.
        #expect(Self.parse(Self.request(opcode: 4, arguments: [0, 0, 0, 0, 0, 1 << 2])) { !$0.dropsSetIDBits })
    }

    /// FUSE over io_uring is flags2 bit 9 (1 << 41), read by the kernel only with FUSE_INIT_EXT.
    @Test func theInitReplyAsksForRingsWhenTheKernelOffersThem() {
        let extended: UInt32 = 1 << 30, rings: UInt32 = 1 << 9
        let amendment = InitReplyAmendment(killsPrivileges: false, usesRings: true, reports: false)
        Self.parse(Self.initRequest(unique: 1, flags: extended, flags2: rings)) { amendment.expect($0) }
        let reply = Self.amendedReply(amendment, unique: 1, flags: 0x10)
        #expect(reply.asksForRings && reply.flags == 0x10 | extended && reply.flags2 == rings)

        // Not offered (flags2 without FUSE_INIT_EXT does not count), or switched off: untouched.
        for (offered, flags2, uses) in [(UInt32(0), rings, true), (extended, 0, true), (extended, rings, false)] {
            let other = InitReplyAmendment(killsPrivileges: false, usesRings: uses, reports: false)
            Self.parse(Self.initRequest(unique: 1, flags: offered, flags2: flags2)) { other.expect($0) }
            let untouched = Self.amendedReply(other, unique: 1, flags: 0x10)
            #expect(!untouched.asksForRings && untouched.flags == 0x10 && untouched.flags2 == 0)
        }
    }

    @Test func shortRequestsReadAsNothing() {
        let truncatedWrite = Array(Self.write(flags: 1 << 2).prefix(KernelRequest.headerSize + 8))
        #expect(Self.parse(truncatedWrite) { !$0.dropsSetIDBits })
        #expect(Self.parse([1, 2, 3]) { $0.opcode == 0 && $0.unique == 0 && $0.offeredFlags == 0 })
    }

    /// fuse_init_in: major, minor, max_readahead, flags, flags2.
    static func initRequest(unique: UInt64, flags: UInt32, flags2: UInt32 = 0) -> [UInt8] {
        request(opcode: 26, unique: unique, nodeID: 0, arguments: [7, 45, 131_072, flags, flags2])
    }

    /// Sends a reply shaped as libfuse sends it (header, then fuse_init_out) through `amendment`
    /// and returns the `flags` word the kernel would read.
    static func amendedFlags(_ amendment: InitReplyAmendment, unique: UInt64, error: Int32 = 0, flags: UInt32) -> UInt32 {
        amendedReply(amendment, unique: unique, error: error, flags: flags).flags
    }

    /// The reply's `flags` and `flags2` words after `amendment`, and whether it asked for io_uring.
    static func amendedReply(_ amendment: InitReplyAmendment, unique: UInt64, error: Int32 = 0,
                             flags: UInt32) -> (flags: UInt32, flags2: UInt32, asksForRings: Bool) {
        var header = [UInt8](repeating: 0, count: 16)
        var arguments = [UInt8](repeating: 0, count: 64)
        header.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt32(80), toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: error, toByteOffset: 4, as: Int32.self)
            raw.storeBytes(of: unique, toByteOffset: 8, as: UInt64.self)
        }
        arguments.withUnsafeMutableBytes { $0.storeBytes(of: flags, toByteOffset: 12, as: UInt32.self) }
        var asksForRings = false
        header.withUnsafeMutableBytes { headerBytes in
            arguments.withUnsafeMutableBytes { argumentBytes in
                var vectors = [iovec(iov_base: headerBytes.baseAddress, iov_len: 16),
                               iovec(iov_base: argumentBytes.baseAddress, iov_len: 64)]
                asksForRings = amendment.amend(&vectors, 2)
            }
        }
        return arguments.withUnsafeBytes {
            ($0.load(fromByteOffset: 12, as: UInt32.self), $0.load(fromByteOffset: 32, as: UInt32.self), asksForRings)
        }
    }

    @Test func theInitReplyAsksForKillPrivV2WhenTheKernelOffersIt() {
        let v2 = InitReplyAmendment.killPrivilegesV2
        let amendment = InitReplyAmendment(killsPrivileges: true, usesRings: false, reports: false)
        Self.parse(Self.initRequest(unique: 1, flags: v2 | 1)) { amendment.expect($0) }
        // Another reply first (not INIT's): untouched.
        #expect(Self.amendedFlags(amendment, unique: 2, flags: 0x10) == 0x10)
        #expect(Self.amendedFlags(amendment, unique: 1, flags: 0x10) == 0x10 | v2)
        // Only once.
        #expect(Self.amendedFlags(amendment, unique: 1, flags: 0x10) == 0x10)
    }

    @Test func theInitReplyIsLeftAloneOtherwise() {
        let v2 = InitReplyAmendment.killPrivilegesV2
        let notOffered = InitReplyAmendment(killsPrivileges: true, usesRings: false, reports: false)
        Self.parse(Self.initRequest(unique: 1, flags: 1)) { notOffered.expect($0) }
        #expect(Self.amendedFlags(notOffered, unique: 1, flags: 0x10) == 0x10)

        let switchedOff = InitReplyAmendment(killsPrivileges: false, usesRings: false, reports: false)
        Self.parse(Self.initRequest(unique: 1, flags: v2)) { switchedOff.expect($0) }
        #expect(Self.amendedFlags(switchedOff, unique: 1, flags: 0x10) == 0x10)

        let refused = InitReplyAmendment(killsPrivileges: true, usesRings: false, reports: false)
        Self.parse(Self.initRequest(unique: 1, flags: v2)) { refused.expect($0) }
        #expect(Self.amendedFlags(refused, unique: 1, error: -EPROTO, flags: 0x10) == 0x10)
    }
}
