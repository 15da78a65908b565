import Foundation
import Glibc
import SeededRandom
import Testing

/// Volumes lost under a live mount (invariant I2): with a synced file set being read in a
/// loop, two of the six volume directories are deleted (`rm -rf`); every read stays
/// byte-correct. `shardvault status` then names the two as missing, and a remount on the
/// four left serves every byte, read-only.
///
/// (Durability through the mount — write, fsync, SIGKILL the daemon, remount — is
/// MountLifecycleTests.fsyncedDataSurvivesSigkillAndStaleMountIsReported.)
@Suite(.serialized)
struct LiveFaultTests {
    /// Bigger than the daemon's 64 MiB chunk cache, so the reads keep reaching the volumes.
    static let fileSet: [(name: String, size: Int)] = (0 ..< 12).map { ("small/s\($0)", 40 + $0 * 397) }
        + (0 ..< 6).map { ("medium/m\($0)", 100_000 + $0 * 250_007) }
        + (0 ..< 5).map { ("large/l\($0)", 14 << 20 + $0 * 4099) }
    static let lostVolumes = [1, 4]

    @Test func readsStayCorrectWhileTwoVolumesAreDeleted() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        let files = Self.fileSet.enumerated().map { index, entry in
            (path: vault.path(entry.name), bytes: SplitMix64.bytes(count: entry.size, seed: UInt64(0xFA17 + index)))
        }
        for directory in ["small", "medium", "large"] {
            try FileManager.default.createDirectory(atPath: vault.path(directory), withIntermediateDirectories: false)
        }
        for file in files { try Self.writeSynced(file.bytes, to: file.path) }

        let loop = ReadLoop(files: files, readers: 2)
        loop.start()
        defer { loop.stopAndWait() }
        try #require(loop.waitForPasses(atLeast: [1, 1], timeout: 120), "readers did not finish a first pass: \(loop.report)")
        let before = loop.passes
        for index in Self.lostVolumes { try Self.delete(vault.volumes[index]) }
        // Two full passes by each reader begun after the deletion.
        let finished = loop.waitForPasses(atLeast: before.map { $0 + 2 }, timeout: 180)
        loop.stopAndWait()
        #expect(finished, "readers did not finish two passes after the deletion: \(loop.report)")
        #expect(loop.failures.isEmpty, "reads went wrong with 2 of 6 volumes deleted:\n\(loop.failures.prefix(10).joined(separator: "\n"))")

        // The daemon cannot write its final checkpoint (5 of 6 volumes needed), but must
        // exit by itself, and nothing acknowledged is lost.
        let exitStatus = vault.unmountBySignal(timeout: 60)
        #expect(exitStatus != nil, "the daemon had to be killed; log: \(vault.log())")
        print("live faults: \(loop.report); daemon exit status \(exitStatus.map(String.init) ?? "none")")

        let status = try MountedVault.run(["status", "--json"] + vault.volumes)
        #expect(status.status == 0, "status: \(status.output)")
        if let json = try? JSONSerialization.jsonObject(with: Data(status.output.utf8)) as? [String: Any],
           let volumes = json["volumes"] as? [[String: Any]] {
            #expect(json["missingVolumes"] as? Int == 2 && json["onlineVolumes"] as? Int == 4, "\(status.output)")
            let missing = volumes.filter { $0["state"] as? String == "missing" }.compactMap { $0["index"] as? Int }
            #expect(missing == Self.lostVolumes, "status names volumes \(missing) as missing")
        } else {
            Issue.record("status --json printed: \(status.output)")
        }

        // A fresh daemon (empty caches) on the four volumes left: read-only, every byte intact.
        try vault.mount()
        #expect(vault.log().contains("read-only"), "the degraded mount should say it is read-only: \(vault.log())")
        for file in files {
            let data = try Data(contentsOf: URL(fileURLWithPath: file.path))
            #expect(data.elementsEqual(file.bytes), "\(file.path) after the degraded remount")
        }
        #expect(errnoOf { mkdir(vault.path("new"), 0o755) } == EROFS)
    }

    /// `rm -rf` of a volume the daemon may be writing to: a file it creates while the
    /// directory is being emptied makes that removal fail ("Directory not empty"), so try
    /// again, as whoever deletes it would.
    private static func delete(_ volume: String) throws {
        for _ in 0 ..< 20 {
            do {
                try FileManager.default.removeItem(atPath: volume)
                return
            } catch {
                guard FileManager.default.fileExists(atPath: volume) else { return }
                usleep(50_000)
            }
        }
        try FileManager.default.removeItem(atPath: volume)
    }

    private static func writeSynced(_ bytes: [UInt8], to path: String) throws {
        let descriptor = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw HarnessError("create \(path): errno \(errno)") }
        defer { close(descriptor) }
        guard write(descriptor, bytes, bytes.count) == bytes.count, fsync(descriptor) == 0 else {
            throw HarnessError("write + fsync \(path): errno \(errno)")
        }
    }
}

/// Reader threads that read the whole file set over and over, each pass in its own order,
/// with the page cache dropped first so every byte comes from the daemon, and compare
/// everything they read.
final class ReadLoop: @unchecked Sendable {
    private let files: [(path: String, bytes: [UInt8])]
    private let readerCount: Int
    private let lock = NSCondition()
    private var passCounts: [Int]
    private var recordedFailures: [String] = []
    private var bytesRead = 0
    private var stopping = false
    private var running = 0

    init(files: [(path: String, bytes: [UInt8])], readers: Int) {
        self.files = files
        readerCount = readers
        passCounts = Array(repeating: 0, count: readers)
    }

    var passes: [Int] { locked { passCounts } }
    var failures: [String] { locked { recordedFailures } }
    var report: String { locked { "passes \(passCounts), \(bytesRead >> 20) MiB read and compared, \(recordedFailures.count) failures" } }

    func start() {
        running = readerCount
        for reader in 0 ..< readerCount {
            let thread = Thread { [self] in
                run(reader)
                locked { running -= 1 }
            }
            thread.start()
        }
    }

    /// True once every reader has finished at least `counts[i]` passes.
    func waitForPasses(atLeast counts: [Int], timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        return locked {
            while zip(passCounts, counts).contains(where: { $0 < $1 }) {
                if running == 0 || !lock.wait(until: deadline) { return false }
            }
            return true
        }
    }

    func stopAndWait() {
        locked {
            stopping = true
            while running > 0 { lock.wait() }
        }
    }

    private func run(_ reader: Int) {
        var order = Array(files.indices)
        var random = SplitMix64(seed: UInt64(reader))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        while !locked({ stopping }) {
            order.shuffle(using: &random)
            for index in order {
                if locked({ stopping }) { return }
                if let failure = check(files[index], buffer) { locked { recordedFailures.append("reader \(reader): \(failure)") } }
            }
            locked { passCounts[reader] += 1 }
        }
    }

    /// Reads one file completely; nil when every byte matched.
    private func check(_ file: (path: String, bytes: [UInt8]), _ buffer: UnsafeMutableRawBufferPointer) -> String? {
        let descriptor = open(file.path, O_RDONLY)
        guard descriptor >= 0 else { return "\(file.path): open errno \(errno)" }
        defer { close(descriptor) }
        _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_DONTNEED)
        var offset = 0
        while true {
            let count = pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset))
            if count < 0 { return "\(file.path): pread at \(offset): errno \(errno)" }
            if count == 0 { break }
            guard offset + count <= file.bytes.count else { return "\(file.path): longer than \(file.bytes.count) bytes" }
            let same = file.bytes.withUnsafeBytes { memcmp($0.baseAddress! + offset, buffer.baseAddress!, count) == 0 }
            if !same { return "\(file.path): bytes differ in [\(offset), \(offset + count))" }
            offset += count
            locked { bytesRead += count }
        }
        return offset == file.bytes.count ? nil : "\(file.path): \(offset) bytes, expected \(file.bytes.count)"
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer {
            lock.broadcast()
            lock.unlock()
        }
        return try body()
    }
}
