import CFuseTestSupport
import Foundation
import Glibc
import Testing

/// FUSE over io_uring (mount option `io_uring`, RingQueues): where the kernel has it, the
/// requests of processes on every CPU come over the per-CPU rings, and what they do is what
/// a mount through /dev/fuse would have done — names, data bigger than one request, xattrs,
/// renames — as a remount without the rings shows.
@Suite(.serialized, .enabled(if: kernelHasFuseRings, "this kernel has no FUSE over io_uring"))
struct RingQueueTests {
    @Test func requestsFromEveryCPUComeOverTheRings() throws {
        let vault = try MountedVault(mount: false)
        defer { vault.stop() }
        try vault.mount(options: ["io_uring", "report_init", "report_requests"])
        #expect(vault.log().contains("requests go over io_uring"), "log: \(vault.log())")

        // One writer pinned to each CPU, so each of the kernel's queues gets requests.
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        let script = (0 ..< cpus).map { cpu in
            """
            taskset -c \(cpu) bash -c '
              mkdir -p cpu\(cpu)/sub
              for i in $(seq 1 30); do head -c $((i * 997)) /dev/urandom > cpu\(cpu)/sub/f$i; done
              head -c 5242881 /dev/urandom > cpu\(cpu)/big
              touch -d @1600000000 cpu\(cpu)/sub/f1
              ln -s sub/f2 cpu\(cpu)/link
              mv cpu\(cpu)/sub/f3 cpu\(cpu)/renamed
              rm cpu\(cpu)/sub/f4
              sync
              find cpu\(cpu) -type f -print0 | sort -z | xargs -0 md5sum > \(vault.root)/sums-\(cpu)
            ' &
            """
        }.joined(separator: "\n") + "\nwait\n"
        let result = try Shell.run(script, in: vault.mountpoint)
        try #require(result.status == 0, "\(result.tail)")
        for cpu in 0 ..< cpus {
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: vault.path("cpu\(cpu)/link")) == "sub/f2")
            #expect(setxattr(vault.path("cpu\(cpu)/big"), "user.colour", "blue", 4, 0) == 0, "errno \(errno)")
            #expect(try Self.xattr(vault.path("cpu\(cpu)/big"), "user.colour") == "blue")
        }
        #expect(vault.unmountBySignal() == 0, "log: \(vault.log())")
        let overRings = vault.log().split(separator: "\n").last { $0.contains("FUSE requests over io_uring: ") }
            .flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        let counts = try FileRoundTripTests.census(vault.log())
        // Each of the 30 creates costs several requests; only FORGET and INTERRUPT stay on /dev/fuse.
        #expect(overRings >= 30 * cpus * 3, "\(overRings) over io_uring; \(counts)")

        // Through /dev/fuse now: the same bytes, names, times and attributes.
        try vault.mount(options: ["noio_uring", "report_requests"])
        let check = try Shell.run((0 ..< cpus).map { "md5sum --quiet -c \(vault.root)/sums-\($0)" }.joined(separator: "\n"),
                                  in: vault.mountpoint)
        #expect(check.status == 0, "\(check.tail)")
        for cpu in 0 ..< cpus {
            var status = stat()
            #expect(stat(vault.path("cpu\(cpu)/sub/f1"), &status) == 0 && status.st_mtim.tv_sec == 1_600_000_000)
            #expect(access(vault.path("cpu\(cpu)/sub/f4"), F_OK) != 0 && access(vault.path("cpu\(cpu)/renamed"), F_OK) == 0)
            #expect(try Self.xattr(vault.path("cpu\(cpu)/big"), "user.colour") == "blue")
        }
        #expect(vault.unmountBySignal() == 0, "log: \(vault.log())")
        #expect(!vault.log().split(separator: "\n").last(where: { $0.contains("FUSE requests") })!.contains("io_uring"))
    }

    static func xattr(_ path: String, _ name: String) throws -> String {
        var buffer = [UInt8](repeating: 0, count: 64)
        let length = getxattr(path, name, &buffer, buffer.count)
        guard length >= 0 else { throw HarnessError("getxattr \(name) of \(path): errno \(errno)") }
        return String(decoding: buffer[..<length], as: UTF8.self)
    }
}

let kernelHasFuseRings = FileManager.default.fileExists(atPath: "/sys/module/fuse/parameters/enable_uring")
