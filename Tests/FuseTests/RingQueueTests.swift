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

    /// FastPaths.batchScheduling: the ring workers (the daemon's threads pinned to one CPU)
    /// run SCHED_BATCH, so a RELEASE waits for its closer to block instead of preempting it;
    /// switched off, they are ordinary threads.
    @Test(.enabled(if: ProcessInfo.processInfo.activeProcessorCount > 1, "with one CPU every thread looks pinned"))
    func ringWorkersRunAsBatchThreadsUnlessSwitchedOff() throws {
        let vault = try MountedVault(mount: false)
        defer { vault.stop() }
        for (environment, policy) in [([String: String](), Self.batchPolicy), (["SHARDVAULT_FUSE_DISABLE": "batch"], 0)] {
            try vault.mount(options: ["io_uring"], environment: environment)
            try Data("x".utf8).write(to: URL(fileURLWithPath: vault.path("touch")))  // the rings are up
            let pid = try #require(vault.daemon?.processIdentifier)
            let workers = try Self.pinnedThreads(of: pid)
            #expect(workers.count >= ProcessInfo.processInfo.activeProcessorCount, "\(workers)")
            #expect(workers.allSatisfy { $0.policy == policy }, "\(environment): \(workers)")
            #expect(vault.unmountBySignal() == 0, "log: \(vault.log())")
        }
    }

    /// A request that waits for a disk goes to a helper thread (RingHelpers), so it does not
    /// hold up the other requests of its CPU. The disk is made to wait for as long as the test
    /// likes: the shard files of a file are replaced by FIFOs, on which the daemon's open and
    /// read block until the test, holding the other end, closes it.
    @Test func aReadWaitingForItsDiskDoesNotHoldUpItsCPU() throws {
        let vault = try MountedVault(mount: false)
        defer { vault.stop() }
        try vault.mount(options: ["io_uring"])
        let original = Data((0 ..< 4 << 20).map { _ in UInt8.random(in: 0 ... 255) })
        try original.write(to: URL(fileURLWithPath: vault.path("big")))
        #expect(vault.unmountBySignal() == 0, "log: \(vault.log())")

        let shards = try vault.volumes.flatMap { try Self.files(under: $0 + "/objects", atLeast: 1 << 20) }
        try #require(shards.count == vault.volumes.count, "\(shards)")
        for shard in shards {
            try #require(rename(shard, shard + ".aside") == 0 && mkfifo(shard, 0o600) == 0, "errno \(errno)")
        }
        let fifos = FifoHolder(paths: shards)
        /// Each FIFO replaced by its shard again, once.
        func putShardsBack() {
            for shard in shards where access(shard + ".aside", F_OK) == 0 {
                unlink(shard)
                rename(shard + ".aside", shard)
            }
        }
        defer {
            fifos.releaseAll()
            putShardsBack()
        }
        try vault.mount(options: ["io_uring"])
        // One READ, of one page, that never reaches the page cache.
        let reader = try Shell.start("taskset -c 0 dd if=\(vault.path("big")) of=/dev/null bs=4096 count=1 iflag=direct")
        try #require(fifos.holdOneOpenedByTheDaemon(timeout: 20), "the daemon never opened a shard; log: \(vault.log())")

        // Started outside the mount: a child that entered it before running the script would
        // hold up Process.run itself.
        let othersRunning = try Shell.start(
            "taskset -c 0 bash -c 'cd \(vault.mountpoint) && echo hello > small && cat small && ls -l > /dev/null && rm small'")
        let deadline = Date().addingTimeInterval(20)
        while othersRunning.process.isRunning && Date() < deadline { usleep(10_000) }
        guard !othersRunning.process.isRunning else {
            Issue.record("requests from the reader's CPU waited for its READ")
            // A request the daemon has taken cannot be interrupted: only its end frees the callers.
            vault.killDaemon()
            _ = othersRunning.wait(timeout: 20)
            _ = reader.wait(timeout: 20)
            return
        }
        let others = othersRunning.wait(timeout: 0)
        #expect(others.succeeded && others.output.contains("hello"), "\(others.tail)")

        fifos.releaseAll(until: { !reader.process.isRunning }, timeout: 20)
        let read = reader.wait(timeout: 5)
        #expect(!read.timedOut && read.status != 0, "a read of shards that are all empty failed: \(read.tail)")
        #expect(vault.unmountBySignal() == 0, "log: \(vault.log())")

        putShardsBack()
        try vault.mount(options: ["io_uring"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: vault.path("big"))) == original, "the file lost data")
        #expect(vault.unmountBySignal() == 0, "log: \(vault.log())")
    }

    /// Regular files of at least `size` bytes under `directory`.
    static func files(under directory: String, atLeast size: Int) throws -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: directory)
        var found: [String] = []
        while let relative = enumerator?.nextObject() as? String {
            let path = directory + "/" + relative
            var info = stat()
            if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size >= size { found.append(path) }
        }
        return found
    }

    /// The daemon's threads carry their names into the kernel (`top -H`, perf, /proc), which
    /// takes at most 15 bytes: a longer name is refused and the thread keeps the binary's.
    @Test func theDaemonsThreadsAreNamed() throws {
        let vault = try MountedVault(mount: false)
        defer { vault.stop() }
        try vault.mount(options: ["io_uring"])
        try Data("x".utf8).write(to: URL(fileURLWithPath: vault.path("touch")))  // the rings are up
        let pid = try #require(vault.daemon?.processIdentifier)
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").compactMap {
            try? String(contentsOfFile: "/proc/\(pid)/task/\($0)/comm", encoding: .utf8).trimmingCharacters(in: .newlines)
        })
        for expected in ["sv-ring-0", "sv-ring-0-help", "sv-journal", "sv-signals"] {
            #expect(names.contains(expected), "\(names.sorted())")
        }
        #expect(vault.unmountBySignal() == 0, "log: \(vault.log())")
    }

    static let batchPolicy = 3  // SCHED_BATCH

    /// The threads of `pid` allowed on one CPU only, with their scheduling policy
    /// (/proc/PID/task/TID/stat field 41).
    static func pinnedThreads(of pid: Int32) throws -> [(thread: Int, policy: Int)] {
        // A thread that ends while we look is skipped.
        try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").compactMap { (name) -> (Int, Int)? in
            guard let thread = Int(name),
                  let status = try? String(contentsOfFile: "/proc/\(pid)/task/\(name)/status", encoding: .utf8),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(name)/stat", encoding: .utf8),
                  let nameEnd = stat.lastIndex(of: ")") else { return nil }
            let allowed = status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }?.split(separator: "\t").last
            guard let allowed, Int(allowed.trimmingCharacters(in: .whitespaces)) != nil else { return nil }  // "0", not "0-1"
            // Fields after the command name, which is in parentheses and may hold spaces; field
            // 41 is the 39th of them.
            let fields = stat[stat.index(after: nameEnd)...].split(separator: " ")
            return fields.count > 38 ? Int(fields[38]).map { (thread, $0) } : nil
        }
    }

    static func xattr(_ path: String, _ name: String) throws -> String {
        var buffer = [UInt8](repeating: 0, count: 64)
        let length = getxattr(path, name, &buffer, buffer.count)
        guard length >= 0 else { throw HarnessError("getxattr \(name) of \(path): errno \(errno)") }
        return String(decoding: buffer[..<length], as: UTF8.self)
    }
}

let kernelHasFuseRings = FileManager.default.fileExists(atPath: "/sys/module/fuse/parameters/enable_uring")

/// The writing ends of FIFOs that stand in for shard files. A FIFO opened for writing
/// without blocking succeeds only once a reader (the daemon) has it open; held, the reader's
/// read waits; closed, the reader sees end of file.
final class FifoHolder {
    let paths: [String]
    private var held: [Int32] = []

    init(paths: [String]) { self.paths = paths }

    /// Waits until the daemon opened one of the FIFOs and keeps its writing end open.
    func holdOneOpenedByTheDaemon(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            for path in paths {
                let descriptor = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
                if descriptor >= 0 {
                    held.append(descriptor)
                    return true
                }
            }
            usleep(5_000)
        }
        return false
    }

    /// Closes what is held, then keeps giving end of file to every reader that opens a FIFO
    /// until `done` or the timeout.
    func releaseAll(until done: () -> Bool = { true }, timeout: TimeInterval = 0) {
        for descriptor in held { close(descriptor) }
        held = []
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            for path in paths {
                let descriptor = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
                if descriptor >= 0 { close(descriptor) }
            }
            if done() { return }
            usleep(5_000)
        } while Date() < deadline
    }
}
