import Foundation
import Testing
@testable import VolumePool
import SeededRandom

/// A directory under /tmp removed when the fixture goes away (also when a test fails).
final class TemporaryDirectory {
    let path: String

    init(_ label: String = "pool") {
        let template = NSTemporaryDirectory() + "shardvault-\(label)-XXXXXX"
        var bytes = Array(template.utf8CString)
        path = bytes.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// n volume directories and an open pool over them.
final class PoolFixture {
    let root: TemporaryDirectory
    let volumePaths: [String]
    private(set) var pool: VolumePool

    init(k: Int, m: Int, stripeSize: Int = VolumePool.defaultStripeSize, backgroundHeal: Bool = false) throws {
        root = TemporaryDirectory()
        let rootPath = root.path
        volumePaths = (0 ..< k + m).map { rootPath + "/vol\($0)" }
        try VolumePool.create(volumePaths: volumePaths, dataShards: k, parityShards: m, stripeSize: stripeSize)
        pool = try VolumePool.open(volumePaths: volumePaths, options: Self.options(backgroundHeal: backgroundHeal))
    }

    /// Opens a pool already created at `volumePaths` inside `root`.
    init(adopting root: TemporaryDirectory, volumePaths: [String]) throws {
        self.root = root
        self.volumePaths = volumePaths
        pool = try VolumePool.open(volumePaths: volumePaths, options: Self.options())
    }

    deinit { pool.close() }

    static func options(backgroundHeal: Bool = false) -> VolumePool.Options {
        var options = VolumePool.Options()
        options.healsInBackground = backgroundHeal
        return options
    }

    /// Closes and reopens the pool over `paths` (all volumes by default).
    func reopen(paths: [String]? = nil) throws {
        pool.close()
        pool = try VolumePool.open(volumePaths: paths ?? volumePaths, options: Self.options())
    }

    /// The shard file of `id` on volume `index`.
    func shardPath(_ id: ObjectID, volume index: Int) -> String {
        volumePaths[index] + "/objects/" + String(id.hex.prefix(2)) + "/" + id.hex
    }

    /// The volume holding shard `shard` of `id`.
    func volume(holdingShard shard: Int, of id: ObjectID) -> Int {
        Placement(objectID: id, volumeCount: volumePaths.count).volumeForShard[shard]
    }

    func removeVolume(_ index: Int) {
        try? FileManager.default.removeItem(atPath: volumePaths[index])
    }
}

/// Fast deterministic bytes; the seed appears in failure messages.
func patternBytes(count: Int, seed: UInt64) -> [UInt8] {
    SplitMix64.bytes(count: count, seed: seed)
}

/// Flips `count` random bytes of the file at `path` (never in place of the same value).
func corrupt(file path: String, bytes count: Int, seed: UInt64) throws {
    var data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    var random = seed
    for _ in 0 ..< count {
        random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let position = Int((random >> 33) % UInt64(data.count))
        data[position] ^= 0x5A
    }
    try Data(data).write(to: URL(fileURLWithPath: path))
}

func shardFiles(in volume: String) -> [String] {
    let objects = volume + "/objects"
    guard let enumerator = FileManager.default.enumerator(atPath: objects) else { return [] }
    return enumerator.compactMap { $0 as? String }.filter { $0.count == 35 }.map { objects + "/" + $0 }
}
