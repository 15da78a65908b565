import Foundation
import Testing
@testable import VolumePool

/// A volume that fills up mid-write: the put completes by quorum or fails cleanly, and what
/// was stored before stays intact. Uses real tmpfs mounts (the suite runs as root).
@Suite(.serialized) struct FullDiskTests {
    /// Mounts a tmpfs of `size` bytes on `path`; unmounted by the returned guard's deinit.
    final class TmpfsMount {
        let path: String
        init(path: String, size: Int) throws {
            self.path = path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            let status = Self.run(["mount", "-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path])
            guard status == 0 else { throw VolumeIOError(path: path, operation: "mount tmpfs", code: EPERM) }
        }
        deinit { _ = Self.run(["umount", "-l", path]) }

        static func run(_ arguments: [String]) -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
            try? process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    /// A 4+2 pool whose volumes listed in `small` live on 3 MiB tmpfs mounts.
    static func pool(smallVolumes small: [Int]) throws -> (PoolFixture, [TmpfsMount]) {
        let root = TemporaryDirectory("full")
        let paths = (0 ..< 6).map { root.path + "/vol\($0)" }
        let mounts = try small.map { try TmpfsMount(path: paths[$0], size: 3 << 20) }
        try VolumePool.create(volumePaths: paths, dataShards: 4, parityShards: 2)
        let fixture = try PoolFixture(adopting: root, volumePaths: paths)
        return (fixture, mounts)
    }

    @Test func oneFullVolumeIsSurvivedByQuorum() throws {
        let (fixture, mounts) = try Self.pool(smallVolumes: [3])
        defer { fixture.pool.close(); _ = mounts }
        var stored: [(ObjectID, [UInt8])] = []
        for i in 0 ..< 12 {  // 12 × 512 KiB shards would need 6 MiB on the small volume
            let id = ObjectID.random()
            let bytes = patternBytes(count: 2 << 20, seed: UInt64(i))
            try fixture.pool.put(id, bytes: bytes)
            stored.append((id, bytes))
        }
        #expect(fixture.pool.counters.partialWrites > 0)
        for (id, bytes) in stored { #expect(try fixture.pool.get(id) == bytes) }
        #expect((try FileManager.default.contentsOfDirectory(atPath: fixture.volumePaths[3] + "/tmp")).isEmpty)
    }

    @Test func twoFullVolumesFailTheWriteCleanly() throws {
        let (fixture, mounts) = try Self.pool(smallVolumes: [1, 4])
        defer { fixture.pool.close(); _ = mounts }
        var stored: [(ObjectID, [UInt8])] = []
        var refused = 0
        for i in 0 ..< 12 {
            let id = ObjectID.random()
            let bytes = patternBytes(count: 2 << 20, seed: UInt64(50 + i))
            do {
                try fixture.pool.put(id, bytes: bytes)
                stored.append((id, bytes))
            } catch let PoolError.writeQuorumNotMet(object, written, needed, problems) {
                refused += 1
                #expect(object == id && written < needed && needed == 5)
                #expect(problems.contains { $0.contains("No space left on device") })
                for path in fixture.volumePaths {
                    #expect(!FileManager.default.fileExists(atPath: path + "/objects/" + id.hex.prefix(2) + "/" + id.hex))
                }
            }
        }
        #expect(refused > 0 && !stored.isEmpty)
        for (id, bytes) in stored { #expect(try fixture.pool.get(id) == bytes) }
        for path in fixture.volumePaths {
            #expect((try FileManager.default.contentsOfDirectory(atPath: path + "/tmp")).isEmpty)
        }
    }
}
