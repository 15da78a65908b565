import Foundation
import Testing

/// A stream written through the kernel's writeback cache arrives as WRITE requests from
/// several worker threads, out of order, while the vault seals full blocks in the background.
/// `shardvault-bench compare` found pages of a 512 MiB stream read back as zeros: a block
/// waiting for a seal slot was briefly in neither the dirty nor the sealing set, and a write
/// into it started a second copy from stale content (fixed in `sealInBackground`). With that
/// bug this test failed every time at 256 MiB.
@Suite(.serialized) struct StreamIntegrityTests {
    @Test func aStreamWrittenThroughTheWritebackCacheReadsBackIdentical() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        let source = vault.root + "/source.bin"
        let copy = vault.path("stream.bin")
        let result = try Shell.run("""
            head -c \(256 << 20) /dev/urandom > \(Shell.quote(source))
            dd if=\(Shell.quote(source)) of=\(Shell.quote(copy)) bs=1M conv=fsync status=none
            sync
            echo 3 > /proc/sys/vm/drop_caches
            cmp \(Shell.quote(source)) \(Shell.quote(copy))
            """, timeout: 300)
        #expect(result.succeeded, "\(result.tail)\ndaemon log: \(vault.log())")
    }
}
