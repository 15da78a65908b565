import Foundation

/// The `format.json` file at the root of each volume: which vault it belongs to, which
/// position it holds, and who its siblings are, so volumes are recognised whatever path
/// they are mounted at. Layout documented in docs/FORMAT-pool.md.
public struct VolumeFormat: Codable, Equatable, Sendable {
    public static let currentVersion = 1
    public static let fileName = "format.json"

    public var formatVersion: Int
    public var vaultID: String
    public var volumeIndex: Int
    public var volumeID: String
    public var volumeIDs: [String]
    public var dataShards: Int
    public var parityShards: Int
    /// Bytes of object data per erasure-coded stripe (the pool's block size).
    public var stripeSize: Int

    public var totalShards: Int { dataShards + parityShards }

    /// Reads and checks the format file of the volume at `path`.
    static func load(volumeAt path: String) throws -> VolumeFormat {
        let url = URL(fileURLWithPath: path).appendingPathComponent(fileName)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw PoolError.damagedFormat(path: path, reason: "cannot read \(fileName): \(Self.reason(error))")
        }
        struct VersionProbe: Decodable { var formatVersion: Int }
        guard let probe = try? JSONDecoder().decode(VersionProbe.self, from: data) else {
            throw PoolError.damagedFormat(path: path, reason: "\(fileName) is not a ShardVault format file")
        }
        guard probe.formatVersion == currentVersion else {
            throw PoolError.unknownFormatVersion(path: path, version: probe.formatVersion)
        }
        let format: VolumeFormat
        do {
            format = try JSONDecoder().decode(VolumeFormat.self, from: data)
        } catch {
            throw PoolError.damagedFormat(path: path, reason: "\(fileName) is incomplete: \(Self.reason(error))")
        }
        if let problem = format.inconsistency {
            throw PoolError.damagedFormat(path: path, reason: problem)
        }
        return format
    }

    /// Writes the format file atomically (temporary file, fsync, rename, fsync of the directory).
    func store(volumeAt path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self)
        try FileOperations.writeAtomically(data, directory: path, name: Self.fileName)
    }

    /// Whether the file contradicts itself; nil when it is coherent.
    var inconsistency: String? {
        if dataShards < 1 || parityShards < 0 { return "impossible geometry \(dataShards)+\(parityShards)" }
        if volumeIDs.count != totalShards { return "lists \(volumeIDs.count) volumes for a \(dataShards)+\(parityShards) pool" }
        if !(0 ..< totalShards).contains(volumeIndex) { return "volume index \(volumeIndex) out of range" }
        if volumeIDs[volumeIndex] != volumeID { return "volume id does not match its own slot" }
        if stripeSize < 4096 || stripeSize > 64 << 20 { return "stripe size \(stripeSize) out of range" }
        return nil
    }

    private static func reason(_ error: Error) -> String {
        (error as NSError).localizedDescription
    }
}
