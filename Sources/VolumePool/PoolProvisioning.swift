import Erasure
import Foundation

extension VolumePool {
    public static let defaultStripeSize = 1 << 20

    /// Creates a new pool over `volumePaths` (each an empty or missing directory), writing a
    /// format file on each. Returns the new vault id.
    @discardableResult
    public static func create(volumePaths: [String], dataShards k: Int, parityShards m: Int,
                              stripeSize: Int = defaultStripeSize) throws -> String {
        guard ErasureCodec.supportedDataShards.contains(k), ErasureCodec.supportedParityShards.contains(m) else {
            throw PoolError.invalidGeometry("data shards must be 1…16 and parity shards 0…8, got \(k)+\(m)")
        }
        guard (4096 ... 64 << 20).contains(stripeSize) else {
            throw PoolError.invalidGeometry("stripe size must be 4 KiB…64 MiB, got \(stripeSize)")
        }
        guard volumePaths.count == k + m else {
            throw PoolError.wrongVolumeCount(given: volumePaths.count, dataShards: k, parityShards: m)
        }
        // Check every path before creating anything, so a refusal leaves no trace.
        var seen: [String: String] = [:]
        for path in volumePaths {
            try checkEmptyOrAbsent(path)
            let real = PoolLayout.realPath(path) ?? URL(fileURLWithPath: path).standardizedFileURL.path
            if let earlier = seen[real] { throw PoolError.duplicateVolume(path: path, samePathAs: earlier, index: -1) }
            seen[real] = path
        }
        for path in volumePaths { try prepareEmptyDirectory(path) }
        let vaultID = UUID().uuidString.lowercased()
        let volumeIDs = volumePaths.map { _ in UUID().uuidString.lowercased() }
        for (index, path) in volumePaths.enumerated() {
            let format = VolumeFormat(formatVersion: VolumeFormat.currentVersion, vaultID: vaultID, volumeIndex: index,
                                      volumeID: volumeIDs[index], volumeIDs: volumeIDs, dataShards: k,
                                      parityShards: m, stripeSize: stripeSize)
            try LocalVolume.createLayout(at: path)
            try format.store(volumeAt: path)
        }
        return vaultID
    }

    /// Gives the empty directory `newPath` the identity of a lost volume, so `heal` can rebuild
    /// its shards there. `index` may be omitted when exactly one position is unaccounted for
    /// among `volumePaths`. Returns the index that was replaced.
    @discardableResult
    public static func replaceVolume(volumePaths: [String], index: Int?, with newPath: String) throws -> Int {
        let layout = try PoolLayout.discover(volumePaths: volumePaths)
        let vacant = layout.slots.filter { $0.volume == nil }.map(\.index)
        let target: Int
        if let index {
            guard (0 ..< layout.format.totalShards).contains(index) else {
                throw PoolError.replaceRefused(path: newPath, reason: "index \(index) is outside 0..<\(layout.format.totalShards)")
            }
            guard vacant.contains(index) else {
                throw PoolError.replaceRefused(path: newPath, reason: "volume \(index) is present and healthy; remove it first")
            }
            target = index
        } else {
            guard vacant.count == 1 else {
                throw PoolError.replaceRefused(path: newPath, reason: vacant.isEmpty
                    ? "no volume is missing" : "volumes \(vacant) are missing; say which one with --index")
            }
            target = vacant[0]
        }
        do {
            try prepareEmptyDirectory(newPath)
        } catch let PoolError.volumeNotEmpty(_, reason) {
            throw PoolError.replaceRefused(path: newPath, reason: reason)
        }
        var format = layout.format
        format.volumeIndex = target
        format.volumeID = format.volumeIDs[target]
        try LocalVolume.createLayout(at: newPath)
        try format.store(volumeAt: newPath)
        return target
    }

    /// Creates `path` if needed and checks it holds nothing (a `lost+found` is tolerated).
    private static func prepareEmptyDirectory(_ path: String) throws {
        try checkEmptyOrAbsent(path)
        if !PoolLayout.directoryExists(path) {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw PoolError.volumeNotEmpty(path: path, reason: "cannot create it: \(error.localizedDescription)")
            }
        }
    }

    private static func checkEmptyOrAbsent(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else {
            throw PoolError.volumeNotEmpty(path: path, reason: "it is a file, not a directory")
        }
        if let existing = try? VolumeFormat.load(volumeAt: path) {
            throw PoolError.volumeNotEmpty(path: path, reason: "it already belongs to vault \(existing.vaultID)")
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        let unexpected = entries.filter { $0 != "lost+found" }
        guard unexpected.isEmpty else {
            throw PoolError.volumeNotEmpty(path: path, reason: "it is not empty (\(unexpected.prefix(3).joined(separator: ", "))…)")
        }
    }
}
