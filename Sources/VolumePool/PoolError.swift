import Foundation

/// Everything the pool can refuse or fail with. Each case names the volume or object involved
/// so the message alone tells a user what to do. Mapping to errno / S3 codes happens in the
/// front doors, from these cases, in one place.
public enum PoolError: Error, Equatable, CustomStringConvertible {
    // Creating and opening.
    case wrongVolumeCount(given: Int, dataShards: Int, parityShards: Int)
    case volumeNotEmpty(path: String, reason: String)
    case foreignVolume(path: String, volumeVault: String, expectedVault: String)
    case duplicateVolume(path: String, samePathAs: String, index: Int)
    case unknownFormatVersion(path: String, version: Int)
    case damagedFormat(path: String, reason: String)
    case volumeLocked(path: String)
    case notEnoughVolumes(usable: Int, needed: Int, problems: [String])
    case invalidGeometry(String)

    // Objects.
    case writeQuorumNotMet(object: ObjectID, written: Int, needed: Int, problems: [String])
    case objectNotFound(ObjectID)
    case objectUnreadable(object: ObjectID, goodShards: Int, needed: Int, problems: [String])
    case invalidRange(object: ObjectID, range: Range<Int>, length: Int)
    case sourceLengthMismatch(object: ObjectID, expected: Int, produced: Int)
    case sourceFailed(object: ObjectID, reason: String)
    case sinkFailed(object: ObjectID, reason: String)
    case deleteIncomplete(object: ObjectID, problems: [String])

    // Maintenance.
    case replaceRefused(path: String, reason: String)

    public var description: String {
        switch self {
        case let .wrongVolumeCount(given, k, m):
            return "a \(k)+\(m) pool needs \(k + m) volumes, \(given) given"
        case let .volumeNotEmpty(path, reason):
            return "volume \(path) cannot be initialised: \(reason)"
        case let .foreignVolume(path, theirs, ours):
            return "volume \(path) belongs to vault \(theirs), not to vault \(ours) like the others"
        case let .duplicateVolume(path, other, index):
            return "volume \(path) is the same volume (index \(index)) as \(other); each volume may be given once"
        case let .unknownFormatVersion(path, version):
            return "volume \(path) has format version \(version), which this shardvault does not know; upgrade shardvault"
        case let .damagedFormat(path, reason):
            return "volume \(path): damaged format file (\(reason))"
        case let .volumeLocked(path):
            return "volume \(path) is in use by another shardvault process"
        case let .notEnoughVolumes(usable, needed, problems):
            return "only \(usable) usable volumes, \(needed) needed: " + problems.joined(separator: "; ")
        case let .invalidGeometry(reason):
            return "invalid pool geometry: \(reason)"
        case let .writeQuorumNotMet(object, written, needed, problems):
            return "write of object \(object) reached \(written) volumes, \(needed) needed; nothing was kept: "
                + problems.joined(separator: "; ")
        case let .objectNotFound(object):
            return "object \(object) not found"
        case let .objectUnreadable(object, good, needed, problems):
            return "object \(object) cannot be read: \(good) good shards, \(needed) needed: "
                + problems.joined(separator: "; ")
        case let .invalidRange(object, range, length):
            return "range \(range.lowerBound)..<\(range.upperBound) lies outside object \(object) of \(length) bytes"
        case let .sourceLengthMismatch(object, expected, produced):
            return "object \(object): source announced \(expected) bytes but produced \(produced)"
        case let .sourceFailed(object, reason):
            return "object \(object): reading the data to store failed: \(reason)"
        case let .sinkFailed(object, reason):
            return "object \(object): delivering the data failed: \(reason)"
        case let .deleteIncomplete(object, problems):
            return "object \(object) was not removed everywhere: " + problems.joined(separator: "; ")
        case let .replaceRefused(path, reason):
            return "cannot replace with \(path): \(reason)"
        }
    }
}

/// A failed system call on a volume, with the path and errno that explain it.
public struct VolumeIOError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var code: Int32

    public init(path: String, operation: String, code: Int32) {
        self.path = path
        self.operation = operation
        self.code = code
    }

    static func lastError(_ operation: String, _ path: String) -> VolumeIOError {
        VolumeIOError(path: path, operation: operation, code: errno)
    }

    public var description: String {
        "\(operation) \(path): \(String(cString: strerror(code)))"
    }
}
