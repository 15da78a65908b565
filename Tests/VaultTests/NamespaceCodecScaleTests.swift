import Foundation
import Testing
@testable import Vault
import SeededRandom

/// Sizes and times of snapshots and record batches for large trees. The default run uses a
/// small tree (a smoke test that prints numbers); set SHARDVAULT_CODEC_SCALE=1 and build in
/// release (`swift test -c release --filter NamespaceCodecScaleTests`) for the 100k and 1M
/// entry figures quoted in docs/FORMAT-vault.md.
@Suite(.serialized) struct NamespaceCodecScaleTests {
    static let shapes: [(directories: Int, filesPerDirectory: Int)] =
        ProcessInfo.processInfo.environment["SHARDVAULT_CODEC_SCALE"] == "1"
            ? [(100, 1000), (1000, 1000)]
            : [(100, 100)]

    @Test(arguments: 0 ..< shapes.count)
    func snapshotAndRecordsAtScale(shapeIndex: Int) throws {
        let shape = Self.shapes[shapeIndex]
        let clock = ContinuousClock()
        var records: [NamespaceRecord] = []
        records.reserveCapacity(shape.directories * (shape.filesPerDirectory + 1))
        let tree = Namespace(rootID: .random(), time: 1_700_000_000_000_000_000)
        let built = try clock.measure {
            var time: Timestamp = 1_700_000_000_000_000_000
            for d in 0 ..< shape.directories {
                time += 1_000
                let (directory, record) = try tree.create(in: Namespace.rootInode, name: Self.sealedName(d, 0),
                                                          kind: .directory, permissions: 0o755, uid: 1000, gid: 1000, time: time)
                records.append(record)
                for f in 0 ..< shape.filesPerDirectory {
                    time += 1_000
                    records.append(try tree.create(in: directory, name: Self.sealedName(d, f + 1), kind: .regular,
                                                   permissions: 0o644, uid: 1000, gid: 1000, time: time).1)
                }
            }
        }
        let entries = records.count

        // Best of three: the machine is shared, and the best run is the least disturbed one.
        var snapshot: [UInt8] = []
        let encode = try Self.bestOf3 { snapshot = tree.snapshot() }
        var restored: Namespace?
        // The previous copy's teardown is not part of a restore: drop it before the clock runs.
        let decode = try Self.bestOf3(before: { restored = nil }) { restored = try Namespace(snapshot: snapshot) }
        #expect(restored?.inodeCount == tree.inodeCount)

        var batch: [UInt8] = []
        let encodeRecords = try Self.bestOf3 { batch = NamespaceRecord.encodeRecords(records) }
        var decodedCount = 0
        let decodeRecords = try Self.bestOf3 { decodedCount = try NamespaceRecord.decodeRecords(batch).count }
        #expect(decodedCount == entries)

        print("""
            [codec scale] \(entries) entries (\(shape.directories) dirs × \(shape.filesPerDirectory) files, 20-byte names); \
            build \(Self.format(built)); snapshot \(snapshot.count) bytes (\(snapshot.count / entries) B/entry), \
            encode \(Self.format(encode)), restore+validate \(Self.format(decode)); \
            record batch \(batch.count) bytes (\(batch.count / entries) B/record), \
            encode \(Self.format(encodeRecords)), decode \(Self.format(decodeRecords))
            """)
        if shape.directories * shape.filesPerDirectory <= 10_000, let restored {
            #expect(restored.difference(from: tree) == nil)
        }
    }

    /// 20 bytes that look like a sealed name: distinct per (directory, file), not text.
    static func sealedName(_ directory: Int, _ file: Int) -> SealedName {
        var generator = SplitMix64(seed: UInt64(directory) << 32 | UInt64(file))
        var bytes = [UInt8](repeating: 0, count: 20)
        for chunk in stride(from: 0, to: 16, by: 8) {
            withUnsafeBytes(of: generator.next()) { bytes.replaceSubrange(chunk ..< chunk + 8, with: $0) }
        }
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: generator.next())) { bytes.replaceSubrange(16 ..< 20, with: $0) }
        return SealedName(bytes)
    }

    static func bestOf3(before: () -> Void = {}, _ work: () throws -> Void) throws -> Duration {
        let clock = ContinuousClock()
        var best = Duration.seconds(Int64.max)
        for _ in 0 ..< 3 {
            before()
            best = min(best, try clock.measure(work))
        }
        return best
    }

    static func format(_ duration: Duration) -> String {
        let milliseconds = Double(duration.components.seconds) * 1e3 + Double(duration.components.attoseconds) / 1e15
        return String(format: "%.1f ms", milliseconds)
    }
}
