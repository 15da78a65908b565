@testable import FuseDriver
import Dispatch
import Testing

/// Which requests a ring owner hands to its helpers (RingHelpers.takes): those that may wait
/// for a disk, a flush or a seal slot, and any request about an inode a helper is busy with.
struct RingHelpersTests {
    typealias Build = KernelRequestTests

    /// fuse_setattr_in begins with `valid`; FATTR_SIZE is 1 << 3.
    static func setattr(valid: UInt32, nodeID: UInt64 = 42) -> [UInt8] {
        Build.request(opcode: 4, nodeID: nodeID, arguments: [valid] + Array(repeating: 0, count: 21))
    }

    /// fuse_write_in with `size` bytes.
    static func write(size: UInt32) -> [UInt8] {
        Build.request(opcode: 16, arguments: [1, 0, 0, 0, size, 0, 0, 0, 0, 0])
    }

    @Test func requestsThatMayWaitGoToAHelper() {
        let helpers = RingHelpers(count: 0, cpu: 0, batchScheduling: false, name: "test")
        let read = Build.request(opcode: 15, arguments: Array(repeating: 0, count: 10))
        let fsync = Build.request(opcode: 20, arguments: [0, 0, 0, 0])
        let fsyncdir = Build.request(opcode: 30, arguments: [0, 0, 0, 0])
        for bytes in [read, fsync, fsyncdir, Self.write(size: 64 << 10), Self.write(size: 1 << 20), Self.setattr(valid: 1 << 3 | 1 << 4)] {
            #expect(Build.parse(bytes) { helpers.takes($0) }, "\(bytes.prefix(8))")
        }
        let getattr = Build.request(opcode: 3, arguments: [0, 0, 0, 0])
        let lookup = Build.request(opcode: 1, arguments: [])
        for bytes in [getattr, lookup, Self.write(size: 4096), Self.setattr(valid: 1 << 4 | 1 << 5)] {
            #expect(!Build.parse(bytes) { helpers.takes($0) }, "\(bytes.prefix(8))")
        }
    }

    /// With no helper thread, a handed-over request stays pending, and so does its inode.
    @Test func aRequestAboutAnInodeAHelperIsBusyWithFollowsIt() {
        let helpers = RingHelpers(count: 0, cpu: 0, batchScheduling: false, name: "test")
        helpers.run(inode: 42) {}
        #expect(Build.parse(Build.request(opcode: 3, nodeID: 42, arguments: [0, 0, 0, 0])) { helpers.takes($0) })
        #expect(!Build.parse(Build.request(opcode: 3, nodeID: 43, arguments: [0, 0, 0, 0])) { helpers.takes($0) })
    }

    /// Once the helper is done, the inode's requests stay with the owner again.
    @Test func theInodeIsReleasedWhenItsRequestIsAnswered() {
        let helpers = RingHelpers(count: 1, cpu: 0, batchScheduling: false, name: "test")
        defer { _ = helpers.stop(timeout: 5) }
        let answered = DispatchSemaphore(value: 0)
        helpers.run(inode: 42) { answered.signal() }
        answered.wait()
        #expect(helpers.stop(timeout: 5))
        #expect(!Build.parse(Build.request(opcode: 3, nodeID: 42, arguments: [0, 0, 0, 0])) { helpers.takes($0) })
    }
}
