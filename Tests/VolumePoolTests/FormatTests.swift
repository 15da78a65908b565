import Foundation
import Testing
@testable import VolumePool

/// Opening refuses configuration mistakes with an error naming the volume, and tolerates
/// what redundancy covers.
@Suite struct FormatTests {
    @Test func volumeFromAnotherVaultIsNamed() throws {
        let fixture = try PoolFixture(k: 2, m: 1)
        let other = try PoolFixture(k: 2, m: 1)
        fixture.pool.close()
        other.pool.close()
        let mixed = [fixture.volumePaths[0], fixture.volumePaths[1], other.volumePaths[2]]
        #expect {
            try VolumePool.open(volumePaths: mixed)
        } throws: { error in
            guard case let PoolError.foreignVolume(path, theirs, ours) = error else { return false }
            return path == other.volumePaths[2] && theirs == other.pool.vaultID && ours == fixture.pool.vaultID
        }
    }

    @Test func sameVolumeTwiceIsRefused() throws {
        let fixture = try PoolFixture(k: 2, m: 1)
        fixture.pool.close()
        let paths = [fixture.volumePaths[0], fixture.volumePaths[1], fixture.volumePaths[1] + "/."]
        #expect {
            try VolumePool.open(volumePaths: paths)
        } throws: { error in
            guard case let PoolError.duplicateVolume(path, earlier, _) = error else { return false }
            return path == paths[2] && earlier == paths[1]
        }
        // A copied volume directory carries the same identity: also a duplicate.
        let copy = fixture.root.path + "/copy"
        try FileManager.default.copyItem(atPath: fixture.volumePaths[0], toPath: copy)
        #expect {
            try VolumePool.open(volumePaths: fixture.volumePaths + [copy])
        } throws: { error in
            guard case let PoolError.duplicateVolume(path, _, index) = error else { return false }
            return path == copy && index == 0
        }
    }

    @Test func unknownFormatVersionIsNamed() throws {
        let fixture = try PoolFixture(k: 2, m: 1)
        fixture.pool.close()
        let formatPath = fixture.volumePaths[2] + "/format.json"
        let text = try String(contentsOfFile: formatPath, encoding: .utf8)
            .replacingOccurrences(of: "\"formatVersion\" : 1", with: "\"formatVersion\" : 7")
        try text.write(toFile: formatPath, atomically: true, encoding: .utf8)
        #expect(throws: PoolError.unknownFormatVersion(path: fixture.volumePaths[2], version: 7)) {
            try VolumePool.open(volumePaths: fixture.volumePaths)
        }
    }

    @Test func damagedFormatFileCountsAsALostVolume() throws {
        let fixture = try PoolFixture(k: 2, m: 1)
        let id = ObjectID.random()
        let bytes = patternBytes(count: 70_000, seed: 4)
        try fixture.pool.put(id, bytes: bytes)
        fixture.pool.close()
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: fixture.volumePaths[1] + "/format.json"))
        try fixture.reopen()
        #expect(try fixture.pool.get(id) == bytes)
        let missing = fixture.pool.volumeStatus().filter { $0.state != .online }
        #expect(missing.count == 1)
    }

    @Test func fewerThanKVolumesNamesEachProblem() throws {
        let fixture = try PoolFixture(k: 4, m: 2)
        fixture.pool.close()
        let given = Array(fixture.volumePaths[0 ..< 3]) + [fixture.root.path + "/nowhere"]
        #expect {
            try VolumePool.open(volumePaths: given)
        } throws: { error in
            guard case let PoolError.notEnoughVolumes(usable, needed, problems) = error else { return false }
            return usable == 3 && needed == 4 && problems.contains { $0.contains("nowhere") }
                && "\(error)".contains("no volume with index")
        }
    }

    @Test func volumeInUseIsRefused() throws {
        let fixture = try PoolFixture(k: 2, m: 1)
        #expect(throws: PoolError.volumeLocked(path: fixture.volumePaths[0])) {
            try VolumePool.open(volumePaths: fixture.volumePaths)
        }
    }

    @Test func createRefusesBadInputAndTouchesNothing() throws {
        let root = TemporaryDirectory()
        let paths = (0 ..< 3).map { root.path + "/v\($0)" }
        #expect(throws: PoolError.wrongVolumeCount(given: 3, dataShards: 4, parityShards: 2)) {
            try VolumePool.create(volumePaths: paths, dataShards: 4, parityShards: 2)
        }
        #expect(throws: PoolError.self) { try VolumePool.create(volumePaths: paths, dataShards: 0, parityShards: 3) }
        #expect(throws: PoolError.self) { try VolumePool.create(volumePaths: paths, dataShards: 2, parityShards: 1, stripeSize: 100) }
        try FileManager.default.createDirectory(atPath: paths[1], withIntermediateDirectories: true)
        try Data("precious".utf8).write(to: URL(fileURLWithPath: paths[1] + "/keep.txt"))
        #expect {
            try VolumePool.create(volumePaths: paths, dataShards: 2, parityShards: 1)
        } throws: { error in
            guard case let PoolError.volumeNotEmpty(path, _) = error else { return false }
            return path == paths[1]
        }
        #expect(try String(contentsOfFile: paths[1] + "/keep.txt", encoding: .utf8) == "precious")
        #expect(!FileManager.default.fileExists(atPath: paths[0]), "a refused create must not leave directories")
        // A volume of an existing pool is never re-initialised.
        let fixture = try PoolFixture(k: 1, m: 0)
        fixture.pool.close()
        #expect(throws: PoolError.self) { try VolumePool.create(volumePaths: fixture.volumePaths, dataShards: 1, parityShards: 0) }
        try fixture.reopen()
    }

    @Test func objectIDsParseOnlyFromThirtyTwoHexDigits() {
        let id = ObjectID(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)
        #expect(ObjectID(hex: id.hex) == id)
        #expect(ObjectID(hex: id.hex.uppercased()) == id)
        for bad in ["+fffffffffffffff" + String(repeating: "0", count: 16), "-000000000000000" + String(repeating: "0", count: 16),
                    String(repeating: "g", count: 32), String(repeating: "0", count: 31), String(repeating: "0", count: 33)] {
            #expect(ObjectID(hex: bad) == nil, "\(bad)")
        }
    }

    @Test func formatFileRecordsTheVault() throws {
        let fixture = try PoolFixture(k: 4, m: 2, stripeSize: 256 << 10)
        let formats = try fixture.volumePaths.map { try VolumeFormat.load(volumeAt: $0) }
        #expect(Set(formats.map(\.vaultID)) == [fixture.pool.vaultID])
        #expect(formats.map(\.volumeIndex) == Array(0 ..< 6))
        #expect(formats.allSatisfy { $0.volumeIDs == formats[0].volumeIDs && $0.stripeSize == 256 << 10 })
        #expect(Set(formats.map(\.volumeID)).count == 6)
        // Order on the command line does not matter: volumes are recognised by their format.
        try fixture.reopen(paths: fixture.volumePaths.reversed())
        #expect(fixture.pool.volumeStatus().map(\.location) == fixture.volumePaths)
    }
}
