import Foundation

/// Works out, from the paths a user gave, which volume holds which position of which vault,
/// and refuses the mistakes that could mix vaults or count one disk twice.
struct PoolLayout {
    let format: VolumeFormat
    let slots: [VolumePool.VolumeSlot]

    static func discover(volumePaths: [String],
                         decorate: (@Sendable (Int, any Volume) -> any Volume)? = nil) throws -> PoolLayout {
        var recognised: [(path: String, format: VolumeFormat)] = []
        var problems: [String] = []
        var seenRealPaths: [String: String] = [:]
        for path in volumePaths {
            if let real = realPath(path) {
                if let earlier = seenRealPaths[real] {
                    let index = (try? VolumeFormat.load(volumeAt: path).volumeIndex) ?? -1
                    throw PoolError.duplicateVolume(path: path, samePathAs: earlier, index: index)
                }
                seenRealPaths[real] = path
            }
            guard directoryExists(path) else {
                problems.append("\(path): missing")
                continue
            }
            do {
                recognised.append((path, try VolumeFormat.load(volumeAt: path)))
            } catch let error as PoolError {
                if case .unknownFormatVersion = error { throw error }
                problems.append("\(path): \(error)")
            }
        }
        guard let reference = majorityFormat(recognised.map(\.format)) else {
            throw PoolError.notEnoughVolumes(usable: 0, needed: 1, problems: problems.isEmpty ? ["no volume given"] : problems)
        }
        var byIndex: [Int: String] = [:]
        for (path, format) in recognised {
            guard format.vaultID == reference.vaultID else {
                throw PoolError.foreignVolume(path: path, volumeVault: format.vaultID, expectedVault: reference.vaultID)
            }
            guard format.volumeIDs == reference.volumeIDs, format.dataShards == reference.dataShards,
                  format.parityShards == reference.parityShards, format.stripeSize == reference.stripeSize else {
                throw PoolError.damagedFormat(path: path, reason: "its vault description disagrees with the other volumes")
            }
            if let earlier = byIndex[format.volumeIndex] {
                throw PoolError.duplicateVolume(path: path, samePathAs: earlier, index: format.volumeIndex)
            }
            byIndex[format.volumeIndex] = path
        }

        var slots: [VolumePool.VolumeSlot] = []
        for index in 0 ..< reference.totalShards {
            let volumeID = reference.volumeIDs[index]
            guard let path = byIndex[index] else {
                let problem = "no volume with index \(index) (id \(volumeID)) was given or readable"
                slots.append(.init(index: index, volumeID: volumeID, volume: nil, location: nil, problem: problem))
                continue
            }
            do {
                let local = try LocalVolume(path: path)
                let volume = decorate?(index, local) ?? local
                slots.append(.init(index: index, volumeID: volumeID, volume: volume, location: path, problem: nil))
            } catch let error as PoolError {
                throw error  // locked by another process: never run two pools on one volume
            } catch {
                let problem = "\(path): \(error)"
                problems.append(problem)
                slots.append(.init(index: index, volumeID: volumeID, volume: nil, location: path, problem: problem))
            }
        }
        let usable = slots.filter { $0.volume != nil }.count
        guard usable >= reference.dataShards else {
            let missing = slots.compactMap { $0.volume == nil ? $0.problem : nil }
            throw PoolError.notEnoughVolumes(usable: usable, needed: reference.dataShards,
                                             problems: problems + missing.filter { !problems.contains($0) })
        }
        return PoolLayout(format: reference, slots: slots)
    }

    /// The vault description most volumes agree on (ties: the first seen).
    private static func majorityFormat(_ formats: [VolumeFormat]) -> VolumeFormat? {
        var counts: [String: Int] = [:]
        for format in formats { counts[format.vaultID, default: 0] += 1 }
        guard let best = counts.max(by: { $0.value < $1.value })?.value else { return nil }
        return formats.first { counts[$0.vaultID] == best }
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = Glibc.realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func directoryExists(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
